"""Auditing a case history: the hash chain, replay on the pinned definition, `audit verify`
over a whole store, export, and the KPI report.

    rows.py      stored events with the hash of their stored bytes; unreadable rows
    chain.py     one case's chain, event by event (first broken event and why)
    replay.py    rebuild a case from its events; compare with the stored projection
    verify.py    every case of a store, streaming
    timeline.py  what each event did, in words
    export.py    a history as JSON, CSV or XLSX
    sheets.py    CSV with a BOM, XLSX, aligned text; no cell can run as a formula
    report/      立案率 / 结案率 / 按期办结率 / 满意率 and friends, by dimension, as of a date
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_getattr

if TYPE_CHECKING:
    from .chain import ChainCursor, ChainFault, check_chain, require_chain
    from .export import export_text
    from .replay import Mismatch, PinnedDefinitionMissing, Replayer, ReplayResult, compare, replay
    from .report import Rate, Report, build_report, report
    from .rows import Unreadable, stored_events
    from .verify import CaseProblem, VerifyReport, replay_all, verify_store

# Public name -> its module. Imported on first use, so that a command needing one module
# (`case show` reads rows and the timeline) does not pay for the report and export
# packages (openpyxl, pygal) at start-up.
_HOME = {
    **dict.fromkeys(("ChainCursor", "ChainFault", "check_chain", "require_chain"), ".chain"),
    "export_text": ".export",
    **dict.fromkeys(("Mismatch", "PinnedDefinitionMissing", "Replayer", "ReplayResult",
                     "compare", "replay"), ".replay"),
    **dict.fromkeys(("Rate", "Report", "build_report", "report"), ".report"),
    **dict.fromkeys(("Unreadable", "stored_events"), ".rows"),
    **dict.fromkeys(("CaseProblem", "VerifyReport", "replay_all", "verify_store"), ".verify"),
}


__getattr__ = lazy_getattr(__name__, _HOME, globals())


__all__ = [
    "CaseProblem", "ChainCursor", "ChainFault", "Mismatch", "PinnedDefinitionMissing", "Rate",
    "Replayer", "ReplayResult", "Report", "VerifyReport", "build_report", "check_chain",
    "Unreadable", "compare", "export_text", "replay", "replay_all", "report", "require_chain",
    "stored_events", "verify_store",
]
