"""The public facade of squall.compress, loaded lazily so that start-up stays cheap."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

import squall.compress


def test_version_is_a_semantic_version_string() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", squall.compress.__version__)


def test_all_lists_exactly_the_public_names() -> None:
    for name in squall.compress.__all__:
        getattr(squall.compress, name)  # the names loaded on first access too
    public = {n for n in vars(squall.compress) if not n.startswith("_")} - {"annotations"}
    # submodules imported as attributes are not part of the facade, except ``plugin`` (the
    # web plugin module, public so that it can be passed to Application(plugins=[...]))
    public = {
        n for n in public if n == "plugin" or type(getattr(squall.compress, n)).__name__ != "module"
    }
    assert set(squall.compress.__all__) - {"__version__"} == public


def test_public_names_load_on_first_access_and_unknown_names_fail() -> None:
    assert squall.compress.CompressTransform.__module__ == "squall.compress._transform"
    assert "gzip" in squall.compress.CODECS
    assert {"CODECS", "Codec", "is_compressible"} <= set(dir(squall.compress))
    with pytest.raises(AttributeError, match="no_such_name"):
        squall.compress.no_such_name  # noqa: B018 - the access is the test


# The plugin is imported at every Application() (entry points): the codecs' libraries
# (zstandard, brotli) must be imported only by an application that turns compression on.
_HEAVY = ("zstandard", "brotli", "squall.compress._codecs", "squall.compress._transform")
_LOADED = f"print(sorted(m for m in {_HEAVY!r} if m in sys.modules))"


def _run(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "SQUALL_WEB_NO_AUTOLOAD"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_importing_the_plugin_loads_no_codec_library() -> None:
    assert _run(f"import sys, squall.compress._plugin; {_LOADED}") == "[]\n"


def test_an_application_without_compression_loads_no_codec_library() -> None:
    code = (
        "import sys, squall.web; squall.web.Application(); "
        f"print('squall.compress._plugin' in sys.modules); {_LOADED}"
    )
    assert _run(code) == "True\n[]\n"  # the plugin was autoloaded, its codecs were not


def test_an_application_with_compression_loads_the_codecs_at_construction() -> None:
    code = (
        "import sys, squall.web; squall.web.Application(compress_response=True); "
        "print('squall.compress._codecs' in sys.modules, 'squall.compress._transform' in "
        "sys.modules)"
    )
    assert _run(code) == "True True\n"
