"""The bounds every value of a process definition and of case data must keep (docs/limits.md).

Why one module: the validator refuses a definition whose literal would break at run time,
and the engine refuses case data past the same bounds, so both read them from here. Names
are bounded by the database columns they are stored in (store/schema.py: `process_id`,
`state`, `trigger`, `source`, `dest`, `owner_role`, `actor_role`, `channel` are 200
characters, `version` 100), and every other name of the language by the same 200, so a
name that validates is stored on every backend.
"""

from __future__ import annotations

from decimal import Decimal

NUMBER_TEXT_MAX = 64  # characters of a number written as text, checked before conversion
MONEY_DIGITS = 15  # whole-yuan digits of an amount: below 10^15
MONEY_LIMIT = Decimal(10) ** MONEY_DIGITS
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # what the event's JSON (and SQL BIGINT) carries
NAME_MAX = 200  # characters of a process id, state, trigger, role, field … name
VERSION_MAX = 100  # characters of a process version
DURATION_DIGITS = 9  # digits of the N of a duration, checked before conversion
# the longest period: 100 years, in each unit (working days: about 250 a year)
PERIOD_MAX = {"minutes": 52_596_000, "hours": 876_600, "days": 36_525,
              "working_days": 25_000}


def number_bound_problem(kind: str, number: Decimal) -> str | None:
    """Why `number` cannot be a value of a `money` or `integer` field, or None."""
    if not number.is_finite():
        return "a finite number is expected"
    if kind == "money" and number and number.adjusted() >= MONEY_DIGITS:
        return f"an amount must be less than 10^{MONEY_DIGITS} in absolute value"
    if kind == "integer" and number and (number.adjusted() > 18
                                         or not INT_MIN <= int(number) <= INT_MAX):
        return f"a whole number from {INT_MIN} to {INT_MAX} is expected"
    return None


__all__ = ["DURATION_DIGITS", "INT_MAX", "INT_MIN", "MONEY_DIGITS", "MONEY_LIMIT", "NAME_MAX",
           "NUMBER_TEXT_MAX", "PERIOD_MAX", "VERSION_MAX", "number_bound_problem"]
