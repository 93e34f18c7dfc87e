"""设置header: ``set_default_headers``, ``set_header`` overriding it, ``set_status``.

Run: python examples/headers.py [--port=9000]

- ``/`` (JsonOne of the notes): defaults ``a1: 1111`` and ``a2: 2222`` from
  ``set_default_headers`` (called before get *and* post); ``get`` overrides ``a1`` with
  ``a111`` and answers ``222 aaaaaa`` (a custom status needs its reason phrase).
- ``/status/<code>``: ``set_status(code)`` without a reason — the standard phrase is filled
  in (301, 302, 400 请求参数错误, 401 没授权, 403 禁止访问, 405 请求方式有问题, 500 服务器错误),
  an unknown code gets "Unknown", a code outside 100-599 is refused (500).
"""

from __future__ import annotations

import argparse

import squall.loop
import squall.web


class JsonOne(squall.web.RequestHandler):
    def set_default_headers(self) -> None:
        self.set_header("a1", "1111")
        self.set_header("a2", "2222")

    def get(self) -> None:
        json_data = dict(name="小明", age=24)
        self.write(json_data)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("a1", "a111")
        # self.set_status(404)
        self.set_status(222, "aaaaaa")

    def post(self) -> None:
        self.write("post keeps the default headers")


class StatusHandler(squall.web.RequestHandler):
    def get(self, code: str) -> None:
        self.set_status(int(code))
        self.write(f"status {code}")


# Built at module level (no socket, no loop yet), so that `squall run` can serve it too.
app = squall.web.Application([(r"/", JsonOne), (r"/status/(\d+)", StatusHandler)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    app.listen(args.port)
    print(f"serving on http://127.0.0.1:{args.port}/", flush=True)
    squall.loop.IOLoop.current().start()


if __name__ == "__main__":
    main()
