"""squall.options: `define`, `options`, `parse_command_line`, `parse_config_file` (Python and TOML), environment variables, logging setup."""

from __future__ import annotations

from squall.options._version import __version__

__all__ = ["__version__"]
