"""Values a definition may write but the engine or the database could not hold (FE232–FE234).

Why: a NaN or infinite bound, a money literal past 10^15, a 40,000-year deadline or a
250-character state name validated and then failed at run time (a refused value on every
fire on PostgreSQL, an overflow in date arithmetic). Each is refused here, on the YAML node,
with the bound in the message (docs/limits.md). Defaults and `set` values are checked
against the same bounds by `values.value_problem` (FE216, FE215).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from ...errors import Location
from ..limits import NAME_MAX, PERIOD_MAX, VERSION_MAX, number_bound_problem
from ..model import Duration
from .context import Context, location_of, number_text, with_locations


def numbers(ctx: Context) -> None:
    """FE232: a field's min/max or a decision threshold that is not finite, or past the
    bound of the field's type."""
    for f in ctx.fields.values():
        for key, value in (("min", f.minimum), ("max", f.maximum)):
            if value is not None:
                _number(ctx, f.type, value, f"{key} of field '{f.name}'", f.at(key))
    for table in ctx.process.decisions.values():
        field = ctx.fields.get(table.input or "")
        kind = field.type if field is not None else "number"
        for i, row in enumerate(table.rows):
            for key in ("over", "at_least", "under", "at_most"):
                value = getattr(row, key)
                if value is not None:
                    _number(ctx, kind, value, f"'{key}' of row {i} of decision "
                            f"'{table.name}'", row.at(key))


def _number(ctx: Context, kind: str, value: Decimal, what: str, loc: Location) -> None:
    why = number_bound_problem(kind, value)
    if why:
        ctx.add("FE232", f"{what} is {number_text(value)}: {why}", loc,
                hint="write a finite number within the bound docs/limits.md gives")


def periods(ctx: Context) -> None:
    """FE233: a duration longer than 100 years (in its own unit)."""
    for what, duration, loc in _durations(ctx):
        most = PERIOD_MAX[duration.unit]
        if duration.amount > most:
            unit = duration.unit.replace("_", " ")
            ctx.add("FE233", f"{what} '{duration}' is longer than 100 years (at most "
                    f"{most:,} {unit})", loc, hint="check the number: statutory periods are counted in days")


def _durations(ctx: Context) -> Iterator[tuple[str, Duration, Location]]:
    p = ctx.process
    if p.duplicate_lookback is not None:
        yield "duplicate_lookback", p.duplicate_lookback, p.at("duplicate_lookback")
    for d in p.deadlines.values():
        for key in ("length", "warn"):
            value = getattr(d, key)
            if value is not None:
                yield f"{key} of deadline '{d.name}'", value, d.at(key)
        if d.extension is not None and d.extension.max_total is not None:
            yield (f"extension max_total of deadline '{d.name}'", d.extension.max_total,
                   d.at("extension.max_total"))


def names(ctx: Context) -> None:
    """FE234: a name longer than the database column it is stored in (200 characters; a
    version 100), on every backend."""
    seen: set[tuple[str, str]] = set()
    for kind, name, most, loc in _names(ctx):
        if len(name) > most and (kind, name) not in seen:
            seen.add((kind, name))
            ctx.add("FE234", f"{kind} '{name[:40]}…' is {len(name)} characters long; the "
                    f"database holds at most {most}", loc,
                    hint=f"shorten it to {most} characters or fewer")


def _names(ctx: Context) -> Iterator[tuple[str, str, int, Location]]:
    p = ctx.process
    yield "process id", p.id, NAME_MAX, p.at("id")
    yield "version", p.version, VERSION_MAX, p.at("version")
    for kind, section, keys in (("state", "states", p.states), ("field", "fields", p.fields),
                                ("deadline", "deadlines", p.deadlines),
                                ("decision", "decisions", p.decisions),
                                ("notification", "notifications", p.notifications),
                                ("list", "lists", p.lists)):
        for name in keys:
            yield kind, name, NAME_MAX, location_of(p, f"{section}.{name}:key",
                                                    f"{section}.{name}")
    for name, loc in with_locations(p, "roles", p.roles):
        yield "role", name, NAME_MAX, loc
    for t in p.transitions:
        yield "trigger", t.trigger, NAME_MAX, t.at("trigger")
    for n in p.notifications.values():
        if n.channel is not None:
            yield "channel", n.channel, NAME_MAX, n.at("channel")


__all__ = ["names", "numbers", "periods"]
