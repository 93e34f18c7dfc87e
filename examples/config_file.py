"""配置文件: options read from a config file instead of the command line.

Run:
    python examples/config_file.py                         # reads ./config (a Python file)
    python examples/config_file.py --config=config.toml    # a TOML file (holds dicts)

The notes add one line to the options example, ``parse_config_file("./config")``; the file
(any name) sets ``port = 8000`` and ``pppp = ['sdf', '123']``. Here the file is read first
and the command line afterwards, so ``--port=N`` given on the command line wins.
(For the "import config" way, see config_module.py.)
"""

from __future__ import annotations

import os
import sys

import squall.http
import squall.loop
import squall.options
import squall.web

squall.options.define("port", default=8000, type=int, help="端口号")
squall.options.define("pppp", default=[], type=str, multiple=True)
squall.options.define("database", default={}, type=dict, help="a table of the TOML file")
squall.options.define("config", default="./config", type=str, help="the config file to read")


class IndexHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write("hello word")


def config_path(argv: list[str]) -> str:
    """The --config=PATH of the command line, read before the file (which it names) is."""
    for arg in argv:
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
    return str(squall.options.options.config)


if __name__ == "__main__":
    path = config_path(sys.argv[1:])
    if not os.path.isabs(path):
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), path)
    squall.options.parse_config_file(path, final=False)  # 仅仅修改了此处 (the notes' one line)
    squall.options.parse_command_line()
    print(squall.options.options.port, flush=True)
    print(squall.options.options.pppp, flush=True)
    print(squall.options.options.database, flush=True)
    app = squall.web.Application([(r"/", IndexHandler)])
    http_server = squall.http.HTTPServer(app)
    http_server.listen(squall.options.options.port)
    squall.loop.IOLoop.current().start()
