"""Decision tables: every row has a condition, ranges compare a money or integer field, and
rows neither overlap nor leave gaps on that field's grid (FE208), so routing a case never
depends on row order by accident. `row_condition` lends the same range wording to diagrams."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from ...errors import Location
from ..model import DecisionRow, DecisionTable, FieldDef
from .context import Context, number_text


def decisions(ctx: Context) -> None:
    """FE208: rows without a condition, ranges without input, overlaps and gaps."""
    for table in ctx.process.decisions.values():
        ranged = [row for row in table.rows if _has_range(row)]
        for i, row in enumerate(table.rows, 1):
            if not _has_range(row) and not row.when:
                ctx.add("FE208", f"row {i} of decision '{table.name}' has no condition",
                        row.location, hint="give it a range with over, at_least, under or "
                        "at_most, or a when: expression")
        if not ranged:
            continue
        if table.input is None:
            ctx.add("FE208", f"decision '{table.name}' has ranges but no input field",
                    table.location, hint="add input: <money or integer field>")
            continue
        f = ctx.fields.get(table.input)
        if f is None:
            continue  # FE210 already
        if f.type not in ("money", "integer"):
            ctx.add("FE208", f"decision '{table.name}' compares ranges over '{f.name}', a "
                    f"{f.type} field", table.at("input"),
                    hint="ranges need a money or integer input field")
            continue
        _coverage(ctx, table, f)


def _has_range(row: DecisionRow) -> bool:
    return any(v is not None for v in (row.over, row.at_least, row.under, row.at_most))


_INF = Decimal("Infinity")


def _grid(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    return (value / step).to_integral_value(rounding) * step


def _span(row: DecisionRow, step: Decimal) -> tuple[Decimal, Decimal]:
    """The closed range [lo, hi] of input values (on the field's grid) a row matches."""
    lo, hi = -_INF, _INF
    if row.over is not None:
        lo = max(lo, _grid(row.over, step, ROUND_FLOOR) + step)
    if row.at_least is not None:
        lo = max(lo, _grid(row.at_least, step, ROUND_CEILING))
    if row.under is not None:
        hi = min(hi, _grid(row.under, step, ROUND_CEILING) - step)
    if row.at_most is not None:
        hi = min(hi, _grid(row.at_most, step, ROUND_FLOOR))
    return lo, hi


def _coverage(ctx: Context, table: DecisionTable, f: FieldDef) -> None:
    step = Decimal("0.01") if f.type == "money" else Decimal(1)
    rows = [(i, row, _span(row, step)) for i, row in enumerate(table.rows, 1)
            if _has_range(row) and not row.when]
    for k, (i, row, (lo, hi)) in enumerate(rows):
        if lo > hi:
            ctx.add("FE208", f"row {i} of decision '{table.name}' matches no value of "
                    f"{f.name}", row.location, "warning", hint="its bounds exclude each other")
            continue
        _overlap(ctx, table, f.name, (i, row, lo, hi), rows[:k])
    if len(rows) == len(table.rows):  # a `when` row may cover what ranges leave open
        _gaps(ctx, table, f, [r for r in rows if r[2][0] <= r[2][1]], step)


def _overlap(ctx: Context, table: DecisionTable, name: str,
             current: tuple[int, DecisionRow, Decimal, Decimal],
             earlier: list[tuple[int, DecisionRow, tuple[Decimal, Decimal]]]) -> None:
    i, row, lo, hi = current
    for j, _, (elo, ehi) in earlier:
        olo, ohi = max(lo, elo), min(hi, ehi)
        if olo > ohi:
            continue
        if (olo, ohi) == (lo, hi):
            msg = f"row {i} of decision '{table.name}' can never match: row {j} takes every " \
                  "value first"
        else:
            msg = f"row {i} of decision '{table.name}' overlaps row {j} for " \
                  f"{_range_text(olo, ohi, name)}; row {j} wins (first match)"
        ctx.add("FE208", msg, row.location, "warning",
                hint="make the bounds meet exactly: over: X after at_most: X, or at_least: X "
                "after under: X")
        return


def _gaps(ctx: Context, table: DecisionTable, f: FieldDef,
          rows: list[tuple[int, DecisionRow, tuple[Decimal, Decimal]]], step: Decimal) -> None:
    dmin = f.minimum if f.minimum is not None else -_INF
    dmax = f.maximum if f.maximum is not None else _INF
    cursor = dmin
    ordered = sorted(rows, key=lambda r: r[2][0])
    for _, row, (lo, hi) in ordered:
        if lo > cursor and not _deliberate(table, cursor, lo - step, dmin, dmax):
            _gap(ctx, table, f.name, cursor, min(lo - step, dmax), row.location)
        cursor = max(cursor, hi + step)
    if cursor.is_finite() and cursor <= dmax and not _deliberate(table, cursor, dmax, dmin, dmax):
        _gap(ctx, table, f.name, cursor, dmax, ordered[-1][1].location)


def _deliberate(table: DecisionTable, lo: Decimal, hi: Decimal, dmin: Decimal,
                dmax: Decimal) -> bool:
    """A strict bound written at the field's own min/max (`over: 0` with min 0) excludes
    that one value on purpose: it would otherwise not need a bound at all."""
    if lo > hi:
        return True
    if lo == hi == dmin:
        return any(r.over == dmin for r in table.rows)
    if lo == hi == dmax:
        return any(r.under == dmax for r in table.rows)
    return False


def _gap(ctx: Context, table: DecisionTable, name: str, lo: Decimal, hi: Decimal,
         loc: Location) -> None:
    ctx.add("FE208", f"decision '{table.name}' has no row for {_range_text(lo, hi, name)}: "
            "routing such a case is refused", loc, "warning",
            hint="add a row, or widen a neighbour's over/at_least/under/at_most")


def _range_text(lo: Decimal, hi: Decimal, name: str) -> str:
    if lo == hi:
        return f"{name} = {number_text(lo)}"
    if lo.is_infinite():
        return f"{name} <= {number_text(hi)}"
    if hi.is_infinite():
        return f"{name} >= {number_text(lo)}"
    return f"{number_text(lo)} <= {name} <= {number_text(hi)}"


def row_condition(row: DecisionRow, name: str) -> str:
    """A row's range as people read it: `30000 < claim_amount < 200000` (for diagrams)."""
    low = f"{number_text(row.over)} < " if row.over is not None else (
        f"{number_text(row.at_least)} <= " if row.at_least is not None else "")
    high = f" < {number_text(row.under)}" if row.under is not None else (
        f" <= {number_text(row.at_most)}" if row.at_most is not None else "")
    if low and not high:  # one bound reads better with the name first
        low, high = "", f" {'>' if row.over is not None else '>='} {low.split()[0]}"
    text = f"{low}{name}{high}" if low or high else ""
    if row.when:
        text = f"{text} and {row.when}" if text else row.when
    return text
