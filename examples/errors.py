"""抛出异常: ``send_error`` ends the response (what was written is dropped); ``write_error``
writes the error page.

Run: python examples/errors.py [--port=5000]

- ``/show``: writes '1' and '2', then ``send_error(444, **error_dic)``: the client gets
  ``444 Unknown`` (a code with no standard phrase) and the body ``ccceee`` made by
  ``write_error`` from the keyword arguments; '1' and '2' are gone. The method goes on
  after send_error: '3' is printed, and ``self.write('4')`` then fails (the response is
  finished: RuntimeError, logged), so '4' is never sent.
- ``/show2``: the commented-out form of the notes, keyword arguments written out.

(The notes define the option as ``prot``, a typo; here it is ``port``.)
"""

from __future__ import annotations

from typing import Any

import squall.http
import squall.loop
import squall.options
import squall.web

squall.options.define("port", default=5000, type=int)


class Show(squall.web.RequestHandler):
    def get(self) -> None:
        self.write("1")
        self.write("2")
        error_dic = dict(error_title="ccc", error_content="eee")
        # self.send_error(444, error_title='aaa', error_content='bbbb')
        self.send_error(444, **error_dic)
        print("3", flush=True)
        self.write("4")

    def write_error(self, status: int, **kargs: Any) -> None:
        self.write(kargs.get("error_title"))
        self.write(kargs.get("error_content"))


class Show2(Show):
    def get(self) -> None:
        self.send_error(444, error_title="aaa", error_content="bbbb")


def make_app() -> squall.web.Application:
    """The application (a factory: built after the options were parsed)."""
    return squall.web.Application([(r"/show", Show), (r"/show2", Show2)], debug=True)


if __name__ == "__main__":
    squall.options.parse_command_line()
    app = make_app()
    http_server = squall.http.HTTPServer(app)
    http_server.listen(squall.options.options.port)
    print(f"serving on http://127.0.0.1:{squall.options.options.port}/", flush=True)
    squall.loop.IOLoop.current().start()
