"""The errors of squall.web.

::

    Exception
    ├── HTTPError                     raised in a handler: becomes the response with its status
    │   └── MissingArgumentError      a required argument is absent: 400 naming the argument
    ├── Finish                        raised in a handler: ends the request early, no error
    └── ConfigurationError            the Application cannot be built as configured (ValueError too)
        ├── MissingPluginError        a setting or method needs a plugin package that is not loaded
        └── MissingSettingError       a feature used at run time needs a setting that is not set

``HTTPError`` and ``Finish`` travel through a handler's code and are caught by its lifecycle;
they never reach the server. ``ConfigurationError`` fails loudly at ``Application(...)``
(misconfiguration is never a silent 404); ``MissingPluginError`` is raised there for a
plugin-owned setting, and at call time by ``static_url()`` / ``render()`` when no plugin
provides them.
"""

from __future__ import annotations

from typing import Any

from squall.http import responses


class HTTPError(Exception):
    """An exception that becomes an HTTP error response.

    Raising ``HTTPError(404)`` in a handler is the same as calling ``send_error(404)``, but
    also stops the handler's method. ``log_message`` (formatted with ``*args`` when given) is
    written to the ``squall.application`` log, never to the client; ``reason`` replaces the
    standard reason phrase in the status line and the default error page.

    Args:
        status_code: the HTTP status of the response (100-599).
        log_message: a message for the log, ``%``-formatted with ``args``.
        *args: the arguments of ``log_message``.
        reason: the reason phrase to send (``"Not Found"`` by default for 404, and so on).
        **kwargs: other keywords are ignored, as by Tornado's ``HTTPError``: subclasses
            pass their own fields through ``super().__init__(..., **kwargs)``.
    """

    def __init__(
        self,
        status_code: int = 500,
        log_message: str | None = None,
        *args: Any,
        reason: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.status_code = status_code
        self.log_message = log_message
        self.args = args
        self.reason = reason
        if log_message and not args:
            # A literal '%' in a message with no args must not break the formatting later.
            self.log_message = log_message.replace("%", "%%")

    def get_message(self) -> str | None:
        """``log_message`` formatted with ``args`` (None when there is none), as Tornado's."""
        if self.log_message:
            return self.log_message % self.args
        return None

    def __str__(self) -> str:
        reason = self.reason or responses.get(self.status_code, "Unknown")
        message = f"HTTP {self.status_code}: {reason}"
        log_message = self.get_message()
        if log_message:
            return f"{message} ({log_message})"
        return message


class MissingArgumentError(HTTPError):
    """A required argument (``get_argument(name)`` without ``default``) was not sent.

    A 400 response whose reason phrase and page name the argument:
    ``400: Missing argument name``.
    """

    def __init__(self, arg_name: str) -> None:
        # log_message holds the name itself (no args), as Tornado's does: write_error
        # overrides that report exc.log_message to the client show the argument's name.
        super().__init__(400, f"Missing argument {arg_name}", reason=f"Missing argument {arg_name}")
        self.arg_name = arg_name


class Finish(Exception):  # noqa: N818 - the name is Tornado's and part of the contract
    """Raise to end the request without an error: ``finish(*args)`` is called if needed.

    Unlike ``HTTPError`` no error page is written: whatever the handler wrote (and the status
    it set) is sent.
    """


class ConfigurationError(ValueError):
    """The Application (or a plugin) cannot run with the given settings or plugins.

    Raised by ``Application(...)``, by ``SettingsRegistry.add`` for a setting declared twice,
    and by plugins in ``squall_web_configure``; the message names the bad setting and value.
    """


class MissingPluginError(ConfigurationError):
    """A setting or a method needs a plugin package that is not installed or not loaded.

    The message names the package and says how to install it (:func:`install_hint`), e.g.
    ``static_url() needs the squall-static package: pip install squall-static (from a
    clone of squall's repository: uv pip install ./packages/static)``.
    """


def install_hint(package: str) -> str:
    """The commands that install ``package`` (``squall-static``): by name, or from a clone.

    Both forms, because a user may have either: the name works once the package is on the
    index pip uses; the folder form works in a clone of the repository (its root
    pyproject.toml makes the sibling folders the source of the squall layers a package
    needs, which plain pip cannot do).
    """
    folder = package.removeprefix("squall-")
    return (
        f"pip install {package} (from a clone of squall's repository: "
        f"uv pip install ./packages/{folder})"
    )


class MissingSettingError(ConfigurationError):
    """A feature was used that needs a setting the Application was not given.

    Raised where the feature is first used (``set_signed_cookie`` without ``cookie_secret``,
    ``@authenticated`` without ``login_url``), not at construction: an application that
    never uses the feature does not need the setting. The message names the setting.

    .. versionadded:: 0.2.0
    """
