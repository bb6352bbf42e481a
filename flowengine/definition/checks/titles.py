"""FE409: a procedure that declares `require_titles: true` promises people a title for
every state, trigger, field and enum value, so timelines, reports and letters never show
a bare name (`decline_filing`, `service_attitude`); and its titles carry no English gloss
in brackets ("受理 (accept)"), which belongs in a YAML comment."""

from __future__ import annotations

import re

from ...errors import Location
from .context import Context

_GLOSS = re.compile(r"[(（][^)）]*[A-Za-z]{3,}[^)）]*[)）]")


def titles(ctx: Context) -> None:
    """FE409 (warning): a missing title, or an English gloss inside one."""
    p = ctx.process
    if not p.require_titles:
        return
    for s in p.states.values():
        _title(ctx, f"state '{s.name}'", s.title, s.location)
    seen: set[str] = set()
    for t in p.transitions:
        titled = any(o.title for o in p.transitions if o.trigger == t.trigger)
        if t.trigger not in seen and not titled:
            _title(ctx, f"trigger '{t.trigger}'", "", t.at("trigger"))
        seen.add(t.trigger)
        if t.title:
            _title(ctx, f"trigger '{t.trigger}'", t.title, t.at("title"))
    for f in p.fields.values():
        _title(ctx, f"field '{f.name}'", f.title, f.location)
        missing = [v for v in f.values if not f.value_titles.get(v)]
        if f.type == "enum" and missing:
            ctx.add("FE409", f"enum field '{f.name}' has no title for {', '.join(missing)}",
                    f.location, "warning",
                    hint="add value_titles: {" + ", ".join(f"{v}: …" for v in missing) + "}")
        for v, title in f.value_titles.items():
            _gloss(ctx, f"value '{v}' of field '{f.name}'", title, f.at(f"value_titles.{v}"))


def _title(ctx: Context, what: str, title: str, loc: Location) -> None:
    if not title.strip():
        ctx.add("FE409", f"{what} has no title", loc, "warning",
                hint="add title: … (the words people read in timelines, reports and letters)")
    else:
        _gloss(ctx, what, title, loc)


def _gloss(ctx: Context, what: str, title: str, loc: Location) -> None:
    if _GLOSS.search(title):
        ctx.add("FE409", f"the title of {what} carries an English gloss: {title!r}", loc,
                "warning", hint="keep the title in the procedure's language and move the "
                "gloss to a YAML comment")
