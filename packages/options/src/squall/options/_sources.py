"""Reading the sources of option values: Python config files, TOML files, the environment.

These functions only *read*: they return names, values and line numbers, and the
``OptionParser`` decides what is an option and checks the values. Every error they raise
is a :class:`ConfigFileError` whose message starts with ``path:line:`` so that an editor
can jump to it.

Line numbers of Python config files come from ``ast`` (the last top-level assignment of
each name), not from executing the file, because a bad value is only discovered after the
file has run, when the line that assigned it is no longer on any stack.
"""

from __future__ import annotations

import ast
import os
import re
import sys
import tomllib
import traceback
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from squall.options._errors import ConfigFileError, ConfigFileNotFoundError


@dataclass(frozen=True)
class ConfigEntry:
    """One top-level name of a config file, with the line that set it (None if unknown)."""

    name: str
    value: Any
    line: int | None


def where(path: str, line: int | None) -> str:
    """``path:line`` (or just ``path``) for messages."""
    return f"{path}:{line}" if line else path


def one_line(text: str) -> str:
    """``text`` with its line breaks folded into spaces (an exception's message may hold
    several lines; the errors of squall.options are printed as one)."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


# --------------------------------------------------------------------------------------
# Python config files (the notes' form: "port = 8000")
# --------------------------------------------------------------------------------------


def _assignment_lines(tree: ast.Module) -> dict[str, int]:
    """The line of the last top-level assignment of each simple name."""
    lines: dict[str, int] = {}

    def targets(node: ast.expr) -> list[ast.Name]:
        if isinstance(node, ast.Name):
            return [node]
        if isinstance(node, ast.Tuple | ast.List):
            return [name for elt in node.elts for name in targets(elt)]
        return []

    for stmt in tree.body:
        found: list[ast.Name] = []
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                found += targets(target)
        elif isinstance(stmt, ast.AnnAssign | ast.AugAssign):
            found += targets(stmt.target)
        for name in found:
            lines[name.id] = stmt.lineno
    return lines


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError as exc:
        message = f"{path}: cannot read config file: {exc.strerror}"
        raise ConfigFileNotFoundError(message, path=path) from None
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read config file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"{path}: config file is not UTF-8 text ({exc.reason})") from None


def read_python_config(path: str) -> list[ConfigEntry]:
    """Execute a Python config file; return its top-level names (dunders left out).

    Raises:
        ConfigFileError: unreadable file, syntax error, or an exception while running it;
            the message names the file and the line.
    """
    source = _read_text(path)
    try:
        tree = ast.parse(source, filename=path)
        code = compile(tree, path, "exec")
    except SyntaxError as exc:
        raise ConfigFileError(f"{where(path, exc.lineno)}: syntax error: {exc.msg}") from None
    namespace: dict[str, Any] = {"__file__": os.path.abspath(path), "__name__": "__config__"}
    try:
        exec(code, namespace)
    except Exception as exc:
        # The innermost frame that ran in the config file holds the failing line.
        line = None
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename == path:
                line = lineno
        message = one_line(f"{where(path, line)}: {type(exc).__name__}: {exc}")
        raise ConfigFileError(message) from exc
    lines = _assignment_lines(tree)
    return [
        ConfigEntry(name, value, lines.get(name))
        for name, value in namespace.items()
        if not name.startswith("__")
    ]


def is_helper(name: str, value: Any) -> bool:
    """Whether a top-level name of a Python config file is not meant as an option: a
    name starting with ``_``, or code (an imported module, a class, a function)."""
    return name.startswith("_") or isinstance(value, types.ModuleType | type) or callable(value)


# --------------------------------------------------------------------------------------
# TOML config files (tables hold dicts, which the Python form cannot express well)
# --------------------------------------------------------------------------------------

_TABLE = re.compile(r"^\s*\[\s*([^\]\[]+?)\s*\]\s*(?:#.*)?$")
_TOML_ERROR_LINE = re.compile(r"\(at line (\d+), column \d+\)")


@dataclass(frozen=True)
class TomlDocument:
    """A parsed TOML file and its text, to find the line of a key for messages."""

    path: str
    data: dict[str, Any]
    text: str

    def line_of(self, table: str | None, key: str) -> int | None:
        """The line of ``key = ...`` in ``[table]`` (None: top level), or None if not found."""
        key_re = re.compile(rf"""^\s*(["']?){re.escape(key)}\1\s*=""")
        current: str | None = None
        for number, line in enumerate(self.text.splitlines(), start=1):
            header = _TABLE.match(line)
            if header is not None:
                current = header.group(1).strip("\"'")
                if table is None and current == key:
                    return number  # the key is itself a table: [key]
                continue
            if current == table and key_re.match(line):
                return number
        return None


def read_toml_config(path: str) -> TomlDocument:
    """Parse a TOML config file (stdlib ``tomllib``).

    Raises:
        ConfigFileError: unreadable file or invalid TOML; names the file and line.
    """
    text = _read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_ERROR_LINE.search(message)
        line = int(found.group(1)) if found else None
        reason = _TOML_ERROR_LINE.sub("", message).strip()
        raise ConfigFileError(f"{where(path, line)}: invalid TOML: {reason}") from None
    return TomlDocument(path, data, text)


def is_toml(path: str) -> bool:
    """TOML is chosen by the ``.toml`` suffix; anything else is a Python file."""
    return path.lower().endswith(".toml")


# --------------------------------------------------------------------------------------
# The environment
# --------------------------------------------------------------------------------------


def environment_variable(prefix: str, key: str) -> str:
    """``SQUALL_`` + ``log_file_prefix`` → ``SQUALL_LOG_FILE_PREFIX``."""
    return prefix + key.upper()


def current_environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    """The given mapping, else ``os.environ``."""
    return os.environ if environ is None else environ


def script_name() -> str:
    """The running script's name for usage lines (``t1.py``)."""
    return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
