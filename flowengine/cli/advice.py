"""What to run next, added by the CLI to a library error's message.

Why here: the library's exceptions are raised inside embedding hosts (a web service, a
batch job) where "run 'flowengine case list'" means nothing, so their messages say only
what happened; the command line knows its own commands and adds the advice.
"""

from __future__ import annotations

from ..audit.checkpoint_format import LogDiverged, LogUnreadable
from ..errors import CaseNotFound, ChainBroken, FlowengineError, RecordUnreadable
from ..store.errors import SchemaNotCurrent

_ADVICE: tuple[tuple[type[FlowengineError], str], ...] = (
    (CaseNotFound, "'flowengine case list' shows the cases"),
    (RecordUnreadable, "'flowengine audit verify' names every broken case"),
    (ChainBroken, "'flowengine audit verify' names every broken case and event"),
    (LogUnreadable, "'flowengine audit verify' names every broken case"),
    (LogDiverged, "'flowengine audit verify --checkpoint FILE' names the first changed entry "
                  "of each case"),
)


def with_advice(exc: FlowengineError) -> str:
    """The error's message, followed by the CLI's advice for its kind when there is one."""
    text = str(exc)
    if isinstance(exc, SchemaNotCurrent) and exc.upgradable:
        return f"{text}: run flowengine db upgrade --db {exc.url}"
    for kind, advice in _ADVICE:
        if isinstance(exc, kind):
            return f"{text}; {advice}"
    return text


__all__ = ["with_advice"]
