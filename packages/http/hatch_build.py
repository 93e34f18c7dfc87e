"""Optional mypyc compilation of squall.http's hot modules (a build hook of hatchling).

Off by default: ``pip install squall-http`` and every editable install get the pure-Python
package, the same files on every platform. Turned on, a wheel build compiles the modules
the hook's ``modules`` list names with mypyc (the compiler mypy ships) into C extensions
and puts them beside their ``.py`` sources, so the wheel is platform-specific and the
import system picks the compiled module (an extension module wins over a source file of
the same name in the same directory)::

    HATCH_BUILD_HOOKS_ENABLE=1 pip wheel --no-deps packages/http
    # or, inside an environment that already holds mypy, setuptools and squall-loop:
    HATCH_BUILD_HOOKS_ENABLE=1 pip wheel --no-build-isolation --no-deps packages/http

``squall.http.compiled()`` tells at run time which one is installed. The modules compiled
are the request path (parser, protocol, connection, body reader, writer, timers); the ones
whose classes users subclass or extend with their own attributes (``HTTPServerRequest``,
``HTTPHeaders``, ``HTTPServer``) stay Python, as do those a request does not touch.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class MypycBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compile the configured modules with mypyc into the wheel being built."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compile, then list every built extension as a file of the wheel."""
        if self.target_name != "wheel" or version == "editable":
            return  # an editable install runs the sources it points at: nothing to compile
        modules = self.config.get("modules")
        if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
            raise TypeError("the mypyc hook's `modules` must be a list of module names")
        src = Path(self.root) / "src"
        self._work = Path(tempfile.mkdtemp(prefix="squall-mypyc-"))
        files = []
        for module in modules:
            rel = Path(*module.split(".")).with_suffix(".py")
            if not (src / rel).is_file():
                raise FileNotFoundError(
                    f"the mypyc hook names {module}, but {src / rel} is missing"
                )
            (self._work / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / rel, self._work / rel)
            files.append(str(rel))
        # The rest of the package (the modules that stay Python) is there for the type
        # checker mypyc runs first: it must see the whole package to type the compiled part.
        for path in (src / "squall").rglob("*.py"):
            target = self._work / path.relative_to(src)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        self.app.display_info(f"mypyc: compiling {len(files)} modules of {self.metadata.name}")
        # The squall namespace has no __init__.py (PEP 420): explicit package bases map
        # squall/http/_parser.py to squall.http._parser. A sibling that is not installed
        # (an isolated build without squall-loop) is typed as Any, which mypyc still compiles.
        argv = [
            sys.executable,
            "-m",
            "mypyc",
            "--explicit-package-bases",
            "--ignore-missing-imports",
            *files,
        ]
        env = {**os.environ, "MYPYPATH": str(self._work)}
        done = subprocess.run(
            argv, cwd=self._work, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"mypyc failed (exit status {done.returncode}):\n{done.stdout}{done.stderr}"
            )
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        built = sorted(
            p for p in self._work.rglob(f"*{suffix}") if not p.is_relative_to(self._work / "build")
        )
        if len(built) < len(files):
            raise RuntimeError(f"mypyc built {len(built)} extensions for {len(files)} modules")
        for path in built:
            build_data["force_include"][str(path)] = str(path.relative_to(self._work))
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the compiler's work directory once the wheel holds its files."""
        work = getattr(self, "_work", None)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
