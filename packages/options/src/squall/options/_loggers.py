"""The three loggers squall writes to, under the names Tornado's ``tornado.log`` exports.

They are the same objects as ``logging.getLogger("squall.access")`` and so on (logging
keeps one logger per name), so a program that imports ``app_log`` from here and one that
names the logger in ``ExpectLog("squall.application", ...)`` see the same records. squall.web
writes to them; this module only names them, and configures nothing (the application does,
for example with ``parse_command_line``).
"""

from __future__ import annotations

import logging

access_log = logging.getLogger("squall.access")
"""One line per finished request (Tornado's ``tornado.access``)."""

app_log = logging.getLogger("squall.application")
"""Errors from application code: uncaught exceptions in handlers and callbacks
(Tornado's ``tornado.application``)."""

gen_log = logging.getLogger("squall.general")
"""Everything else squall reports: bad requests, connection trouble (Tornado's
``tornado.general``)."""
