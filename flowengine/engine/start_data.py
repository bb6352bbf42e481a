"""What the data of a start may hold: the records-only rule of `fire`, applied at start.

A fire records only the fields its transition declares (`requires`, `accepts`); a start
records only the fields marked `required`, those of `start.requires` and `start.accepts`.
Values the engine writes itself can never be given, whatever the process says: the
signatures (only a `signs: true` fire adds one, so a start cannot forge a principal's
sign-off), `duplicate_of`, the owner (whoever starts the case) and computed fields.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..definition.model import ProcessDef
from ..errors import did_you_mean
from .data import SIGNATURES

DUPLICATE_OF = "duplicate_of"
OWNER = "owner"
BUILT_IN = {
    SIGNATURES: "is written only by a fire of a transition with signs: true",
    DUPLICATE_OF: "is written by the engine when an open case has the same duplicate_key",
    OWNER: "is whoever starts the case (the actor, 首问负责)",
}


def start_records(p: ProcessDef) -> frozenset[str]:
    """The fields a start may be given: required ones, `start.requires`, `start.accepts`,
    never a built-in or a computed one."""
    named = {n for n, f in p.fields.items() if f.required} | set(p.start.accepts)
    named.update(f for r in p.start.requires for f in r.fields)
    flag = {p.duplicate_flag.field} if p.duplicate_flag is not None else set()
    return frozenset(named - set(p.computed_by) - {SIGNATURES, DUPLICATE_OF} - flag)


def start_refusal(p: ProcessDef, records: frozenset[str], given: Iterable[str]) -> str | None:
    """Why a start given the fields `given` is refused, or None when it records them all."""
    if records.issuperset(given):
        return None
    extra = sorted(set(given) - records)
    if not extra:
        return None
    computed = p.computed_by
    for name in extra:
        if name in BUILT_IN and (name != OWNER or name not in p.fields):
            return f"{name} cannot be given: it {BUILT_IN[name]}"
        if name in computed:
            return f"{name} cannot be given: it is computed by '{computed[name]}'"
    near = did_you_mean(extra[0], records) if len(extra) == 1 else ""
    return (f"'start' does not record {', '.join(extra)} (it records: "
            f"{', '.join(sorted(records)) or 'no data'}); "
            + (near or "give it with the trigger that records it, or add it to "
               "start.accepts in the process"))
