"""The squall.web plugin of squall-options, found through the `squall.web` entry-point group.

Its hook implementations are added as the package is built (see docs/interfaces.md).
"""

from __future__ import annotations
