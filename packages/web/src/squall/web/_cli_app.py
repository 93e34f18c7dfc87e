"""``squall run module:attr``: find the Application the command line names.

Rules (those of ``uvicorn`` and ``gunicorn`` users know, so nothing new to learn):

- The target is ``module:attribute``; the attribute may be a dotted path (``pkg.mod:obj.app``).
- The working directory comes first on ``sys.path`` (``squall run app:app`` in the folder of
  ``app.py`` finds it, as ``python app.py`` would).
- Without ``--factory`` the attribute must be a ``squall.web.Application``. With
  ``--factory`` it is called with no argument and must return one: the application is then
  built after ``--config`` was read, so it sees the configured options.
- Loading is split in two steps (:func:`import_target`, then :func:`resolve_app`) because
  ``--config`` must be read in between: the module defines the options the file sets.

A wrong target is an :class:`AppLoadError`, whose message is one line meant for the user
(``module 'myapp' has no attribute 'application'``). An exception raised by the module's own
code at import is not the command line's fault: it is wrapped in :class:`AppImportError`,
which keeps the original exception so the caller can show its traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType
from typing import Any

from squall.web._application import Application


class AppLoadError(Exception):
    """The target of ``squall run`` does not name an Application (one-line message)."""


class AppImportError(AppLoadError):
    """The module of the target raised while being imported (a bug in the app's code).

    ``__cause__`` is the original exception, whose traceback the user needs.
    """


def split_target(target: str) -> tuple[str, str]:
    """``"pkg.mod:obj.app"`` → ``("pkg.mod", "obj.app")``.

    Raises:
        AppLoadError: the target is not of the form ``module:attribute``.
    """
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name.strip() or not attr.strip():
        raise AppLoadError(
            f"{target!r} is not of the form module:attribute (for example examples.hello:app)"
        )
    return module_name.strip(), attr.strip()


def _is_missing(exc: ModuleNotFoundError, module_name: str) -> bool:
    # The target itself (or one of its parent packages) is missing, as opposed to a module
    # the target imports: that is the app's bug and deserves its traceback.
    missing = exc.name or ""
    return missing == module_name or module_name.startswith(missing + ".")


def import_target(module_name: str, app_dir: str | None = None) -> ModuleType:
    """Import ``module_name`` with ``app_dir`` (default: the working directory) first on the path.

    Raises:
        AppLoadError: no such module.
        AppImportError: the module raised while being imported.
    """
    directory = os.path.abspath(app_dir if app_dir is not None else os.getcwd())
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if _is_missing(exc, module_name):
            raise AppLoadError(
                f"no module named {exc.name!r} (looked in {directory} and sys.path)"
            ) from None
        raise AppImportError(f"importing {module_name!r} failed: {exc!r}") from exc
    except Exception as exc:
        raise AppImportError(f"importing {module_name!r} failed: {exc!r}") from exc


def _describe(obj: object) -> str:
    if isinstance(obj, ModuleType):
        return "a module"
    if isinstance(obj, type):
        return f"the class {obj.__qualname__}"
    if callable(obj):
        return "a function" if hasattr(obj, "__code__") else f"a callable {type(obj).__name__}"
    return f"a {type(obj).__name__}"


def resolve_app(
    module: ModuleType, attr: str, *, factory: bool = False, any_object: bool = False
) -> Any:
    """The Application named by ``attr`` in ``module`` (called first when ``factory``).

    ``any_object``: return whatever the name gives, unchecked (``--interface asgi|wsgi``:
    squall-asgi checks it).

    Raises:
        AppLoadError: no such attribute, or not an Application (nor a factory of one).
        AppImportError: the factory raised.
    """
    obj: object = module
    walked: list[str] = []
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            owner = f"module {module.__name__!r}"
            if walked:
                owner = f"{module.__name__}:{'.'.join(walked)}"
            raise AppLoadError(f"{owner} has no attribute {part!r}") from None
        walked.append(part)
    target = f"{module.__name__}:{attr}"
    if factory:
        if not callable(obj):
            raise AppLoadError(f"--factory: {target} is {_describe(obj)}, not callable")
        if isinstance(obj, Application):
            raise AppLoadError(
                f"--factory: {target} is already a squall.web.Application (drop --factory)"
            )
        try:
            obj = obj()
        except Exception as exc:
            raise AppImportError(f"calling the factory {target} failed: {exc!r}") from exc
        if not isinstance(obj, Application) and not any_object:
            raise AppLoadError(
                f"the factory {target} returned {_describe(obj)}, not a squall.web.Application"
            )
        return obj
    if isinstance(obj, Application) or any_object:
        return obj
    hint = " (pass --factory to call it)" if callable(obj) else ""
    raise AppLoadError(f"{target} is {_describe(obj)}, not a squall.web.Application{hint}")
