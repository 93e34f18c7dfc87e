"""配置文件: options read from a config file instead of the command line.

Run:
    python examples/config_file.py                                 # reads config beside it
    python examples/config_file.py --config=examples/config.toml   # a TOML file (holds dicts)
    python examples/config_file.py --config examples/config.toml   # the same

The notes add one line to the options example, ``parse_config_file("./config")``; the file
(any name) sets ``port = 8000`` and ``pppp = ['sdf', '123']``. A path given with
``--config`` is relative to the current directory; without it, the ``config`` file next to
this script is read. A value given on the command line wins over the file's, whatever the
order of the two calls. A bad file ends the program with one line (``error: file:line:
...``) and exit status 2; a missing one raises ``FileNotFoundError``, as in Tornado. (For
the "import config" way, see config_module.py.)
"""

from __future__ import annotations

import os

import squall.http
import squall.loop
import squall.options
import squall.web

squall.options.define("port", default=8000, type=int, help="端口号")
squall.options.define("pppp", default=[], type=str, multiple=True)
squall.options.define("database", default={}, type=dict, help="a table of the TOML file")
squall.options.define(
    "config",
    default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "config"),
    type=str,
    help="the config file to read (Python, or TOML if it ends in .toml)",
)


class IndexHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write("hello word")


if __name__ == "__main__":
    # --config=PATH or --config PATH: the command line is read first, to know the file.
    squall.options.parse_command_line(final=False)
    # 仅仅修改了此处 (the notes' one line)
    squall.options.parse_config_file(squall.options.options.config)
    print(squall.options.options.port, flush=True)
    print(squall.options.options.pppp, flush=True)
    print(squall.options.options.database, flush=True)
    app = squall.web.Application([(r"/", IndexHandler)])
    http_server = squall.http.HTTPServer(app)
    http_server.listen(squall.options.options.port)
    print(f"serving on http://127.0.0.1:{squall.options.options.port}/", flush=True)
    squall.loop.IOLoop.current().start()
