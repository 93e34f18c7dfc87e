"""获取请求参数: query and body arguments, the request object, uploaded files, a JSON body.

Run: python examples/arguments.py [--port=9000] [--upload_dir=.]

- ``/show``  GET prints query arguments (``?a=1&b=2&b=3``), POST prints body arguments
  (``e=5&e=6``) and ``get_argument(s)`` that see both (the notes' first snippet).
- ``/request`` GET prints the request and its attributes; POST saves the two uploaded
  images ``image1`` and ``image2`` (multipart/form-data) as files named image1 and image2 in
  ``--upload_dir`` (the notes' second snippet).
- ``/jsondate`` POST: a JSON body, parsed with ``json.loads`` and written back (a dict, so
  the answer is JSON with ``Content-Type: application/json; charset=UTF-8``).
"""

from __future__ import annotations

import json
import os

import squall.http
import squall.loop
import squall.options
import squall.web

squall.options.define("port", default=9000, type=int, help="端口号")
squall.options.define("upload_dir", default=".", type=str, help="where uploads are saved")


class Show(squall.web.RequestHandler):
    def get(self) -> None:
        print(self.get_query_argument("a"), flush=True)
        print(self.get_query_argument("b"), flush=True)  # the last of several values
        print(self.get_query_arguments("b"), flush=True)  # all of them, a list
        print(self.get_query_argument("c", "33"), flush=True)  # the default when absent
        print(self.request.host, flush=True)

    def post(self) -> None:
        print(self.get_body_argument("e"), flush=True)
        print(self.get_body_arguments("e"), flush=True)
        print(self.get_argument("f"))  # query string and body together (2合1, flush=True)
        print(self.get_arguments("f"), flush=True)


class RequestInfo(squall.web.RequestHandler):
    def get(self) -> None:
        request = self.request
        print(request, flush=True)
        print(request.method, flush=True)
        print(request.host, flush=True)
        print(request.headers, flush=True)
        # The other attributes the notes list (关于请求的其他信息).
        print("uri", request.uri, flush=True)
        print("path", request.path, flush=True)
        print("query", request.query, flush=True)
        print("version", request.version, flush=True)
        print("body", request.body, flush=True)
        print("remote_ip", request.remote_ip, flush=True)
        print("user-agent", request.headers["User-Agent"], flush=True)

    def post(self) -> None:
        file_dic = self.request.files  # a dict: form field name -> list of HTTPFile
        print(
            {name: [(f.filename, f.content_type) for f in fs] for name, fs in file_dic.items()},
            flush=True,
        )
        image_list1 = file_dic["image1"]  # the list of files sent as "image1"
        image_list2 = file_dic["image2"]
        upload_dir = squall.options.options.upload_dir
        if image_list1:
            image1 = image_list1[0]["body"]  # HTTPFile fields read like a dict too
            with open(os.path.join(upload_dir, "image1"), "wb") as new_image1:
                new_image1.write(image1)
        if image_list2:
            image2 = image_list2[0].body
            with open(os.path.join(upload_dir, "image2"), "wb") as new_image2:
                new_image2.write(image2)
        print("saved", image_list1[0].filename, image_list2[0].filename, flush=True)


class JsonDate(squall.web.RequestHandler):
    def post(self) -> None:
        json_s = self.request.body  # bytes
        json_d = json.loads(json_s)  # a dict
        self.write(json_d)


def make_app() -> squall.web.Application:
    """The application (a factory: built after the options were parsed)."""
    return squall.web.Application(
        [(r"/show", Show), (r"/request", RequestInfo), (r"/jsondate", JsonDate)], debug=True
    )


if __name__ == "__main__":
    squall.options.parse_command_line()
    app = make_app()
    http_server = squall.http.HTTPServer(app)
    http_server.listen(squall.options.options.port)
    print(f"serving on http://127.0.0.1:{squall.options.options.port}/", flush=True)
    squall.loop.IOLoop.current().start()
