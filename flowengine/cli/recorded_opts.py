"""`--backdate-tolerance`: how far before its recorded time an event's claimed instant may
lie before it counts as backdated (docs/audit.md). One option, read the same way by every
command that shows or counts backdated events."""

from __future__ import annotations

from datetime import timedelta

import click

from ..audit.recorded import parse_tolerance
from .common import F, ParsedType

TOLERANCE = ParsedType("DURATION", parse_tolerance, timedelta,
                       "not a duration; write e.g. 90s, 30m, 1h or 2d")


def tolerance_option(func: F) -> F:
    """Add --backdate-tolerance; the command receives `tolerance: timedelta`."""
    return click.option(
        "--backdate-tolerance", "tolerance", type=TOLERANCE, default="1h",
        envvar="FLOWENGINE_BACKDATE_TOLERANCE", show_default=True, metavar="DURATION",
        help="An event whose claimed time is more than this before the time the database "
             "recorded it is backdated (env FLOWENGINE_BACKDATE_TOLERANCE).")(func)


__all__ = ["TOLERANCE", "tolerance_option"]
