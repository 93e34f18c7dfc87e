"""The web plugin of squall-websocket stays cheap to import (start-up time).

It is imported at every ``Application()`` through its entry point: the handler, the
connection, the frame codec and the client (≈ 6 ms of imports) are loaded only by an
application (or a script) that uses them.
"""

from __future__ import annotations

import os
import subprocess
import sys

_HEAVY = (
    "squall.websocket._client",
    "squall.websocket._connection",
    "squall.websocket._frames",
    "squall.websocket._handler",
)
_LOADED = f"print(sorted(m for m in {_HEAVY!r} if m in sys.modules))"


def _run(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "SQUALL_WEB_NO_AUTOLOAD"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_importing_the_plugin_loads_no_protocol_module() -> None:
    assert _run(f"import sys, squall.websocket._plugin; {_LOADED}") == "[]\n"


def test_an_application_without_websockets_loads_no_protocol_module() -> None:
    code = (
        "import sys, squall.web; app = squall.web.Application(websocket_ping_interval=5); "
        f"print(app.settings['websocket_max_message_size']); {_LOADED}"
    )
    # the plugin was autoloaded (it declared the settings), its protocol modules were not
    assert _run(code) == f"{10 * 1024 * 1024}\n[]\n"


def test_the_handler_is_loaded_by_its_first_use() -> None:
    code = f"import sys, squall.websocket; squall.websocket.WebSocketHandler; {_LOADED}"
    loaded = [
        "squall.websocket._connection",
        "squall.websocket._frames",
        "squall.websocket._handler",
    ]
    assert _run(code) == f"{loaded}\n"
