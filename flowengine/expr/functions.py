"""The named functions a guard may call, and the environment they read.

Guards cannot reach Python: the only callables an expression can name are the entries of
`FUNCTIONS` below, each a plain function of `(env, *values)`. Everything a function needs
from outside the case data comes through `EvalEnv` — the instant of the fire (`now`, from
the engine's clock, never the wall clock), the process time zone, the working-day
calendar and the roles that have signed — so evaluation is deterministic and replays give
the same answer. A function signals a bad argument by raising `ExprEvalError`; the call
site in `parser.py` prefixes the call's source text so the message names the field.

`ExprEvalError` is defined here, not in `parser.py`, so that the imports point one way
(parser -> functions); `parser` re-exports it, and `flowengine.expr` exports both.

`pure` functions depend on their arguments only; the compiler folds a call to one whose
arguments are all literals (so `date('2024-02-30')` is refused when the YAML is loaded).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Protocol

from ..calendar.periods import due_date
from ..clock import DEFAULT_TZ

MAX_ARGS = 16
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PERIOD = re.compile(r"\s*(\d{1,4})\s*(days?|working[ _]days?|workdays?|years?)\s*")


class ExprEvalError(ValueError):
    """An expression could not be evaluated; the message names the field or value."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class EvalEnv(Protocol):
    """What an expression may read while it is evaluated."""

    data: Mapping[str, Any]  # a declared field with no value is absent -> None
    actor: Any  # has .name and .role, or is None
    now: datetime  # tz-aware instant of the fire, from the engine's clock
    tz: tzinfo  # the process's time zone, for "today"
    calendar: Any  # is_workday, add_working_days, working_days_between, next_workday
    signatures: Sequence[str]  # roles that have signed so far


@dataclass
class SimpleEnv:
    """A plain `EvalEnv`: the engine builds one per fire, tests build them by hand.

    `now` is required on purpose: a default would have to come from the wall clock.
    """

    now: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
    actor: Any = None
    tz: tzinfo = DEFAULT_TZ
    calendar: Any = None
    signatures: Sequence[str] = ()

    def __post_init__(self) -> None:
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise ValueError("SimpleEnv.now must be timezone-aware (take it from a Clock)")


@dataclass(frozen=True)
class Function:
    """A function guards may call: `impl(env, *args)` with min_args..max_args values."""

    name: str
    min_args: int
    max_args: int
    impl: Callable[..., Any]
    doc: str
    pure: bool = False  # result depends on the arguments only: folded when they are literals
    # Called at load time as check_literal(index, value) for each literal argument; raises
    # ExprEvalError to refuse it (so within(x, '30 dayz') fails validation, not a case).
    check_literal: Callable[[int, Any], None] | None = None


def _has_signed(env: EvalEnv, role: Any) -> bool:
    if not isinstance(role, str):
        raise ExprEvalError(f"the role must be text, got {describe(role)}")
    return role in env.signatures


def _today(env: EvalEnv) -> date:
    return env.now.astimezone(env.tz).date()


def _now(env: EvalEnv) -> datetime:
    return env.now


def local_date(value: Any, tz: tzinfo) -> date:
    """A date, an aware datetime (converted to `tz`) or ISO text, as a local date."""
    if isinstance(value, str):
        value = _parse_iso(value)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ExprEvalError(f"{value.isoformat()} has no time zone; cannot find its date")
        return value.astimezone(tz).date()
    if isinstance(value, date):
        return value
    raise ExprEvalError(f"expected a date or datetime, got {describe(value)}")


def _parse_iso(text: str) -> date | datetime:
    try:
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise ExprEvalError(f"'{text}' is not an ISO date (YYYY-MM-DD)") from None


def _days_since(env: EvalEnv, value: Any) -> int:
    return (_today(env) - local_date(value, env.tz)).days


def _working_days_since(env: EvalEnv, value: Any) -> int:
    start = local_date(value, env.tz)
    return int(_calendar(env).working_days_between(start, _today(env)))


def _calendar(env: EvalEnv) -> Any:
    if env.calendar is None:
        raise ExprEvalError("no working-day calendar is configured for this process")
    return env.calendar


def _period(text: Any) -> tuple[int, str]:
    """'30 days' -> (30, 'days'); '7 working days' -> (7, 'working_days'); '3 years' ->
    (3, 'years')."""
    match = _PERIOD.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ExprEvalError(f"expected a period such as '30 days', '7 working days' or "
                            f"'3 years', got {describe(text)}")
    unit = match.group(2)
    return int(match.group(1)), ("days" if unit.startswith("day") else
                                 "years" if unit.startswith("year") else "working_days")


def _check_within(index: int, value: Any) -> None:
    if index == 1:
        _period(value)


def _within(env: EvalEnv, start: Any, period: Any) -> bool:
    """Whether today is on or before the last day of `period` counted from `start`,
    by the same statutory period rules as deadlines (`flowengine.calendar.periods`)."""
    amount, unit = _period(period)
    first = local_date(start, env.tz)
    if unit == "years":
        return _today(env) <= _last_day_of_years(_calendar(env), first, amount)
    last = due_date(_calendar(env), first, amount, "working_days" if unit == "working_days" else "days")
    return _today(env) <= last


def _last_day_of_years(cal: Any, first: date, years: int) -> date:
    """民法典 arts. 201–203: the corresponding day of the last year ends the period (the end of
    February when there is none, as for 29 February), rolled to the next working day when it
    is a rest day, like a period of days."""
    year = first.year + years
    if year > date.max.year:
        raise ExprEvalError(f"{years} years from {first} run past the last date a calendar can hold")
    try:
        nominal = first.replace(year=year)
    except ValueError:  # 29 February in a year that has none
        nominal = date(year, 2, 28)
    rolled: date = cal.next_workday(nominal)  # on or after
    return rolled


def _len(env: EvalEnv | None, value: Any) -> int:
    if isinstance(value, (str, list, tuple)):
        return len(value)
    raise ExprEvalError(f"expected text or a list, got {describe(value)}")


def _coalesce(env: EvalEnv | None, *values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _is_set(env: EvalEnv | None, value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip() != ""
    if isinstance(value, (list, tuple)):
        return len(value) > 0
    return True


def _date(env: EvalEnv | None, text: Any) -> date:
    if not isinstance(text, str) or not _ISO_DATE.fullmatch(text):
        raise ExprEvalError(f"expected an ISO date 'YYYY-MM-DD', got {describe(text)}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ExprEvalError(f"'{text}' is not a calendar date") from None


def describe(value: Any) -> str:
    """A short description of a value for error messages."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return f"the yes/no value {str(value).lower()}"
    if isinstance(value, (int, Decimal, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text '{value if len(value) <= 40 else value[:37] + '...'}'"
    if isinstance(value, datetime):
        return f"the datetime {value.isoformat()}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    return f"a value of type {type(value).__name__}"


_ALL = (
    Function("has_signed", 1, 1, _has_signed,
             "true when someone with that role has signed: has_signed('principal')"),
    Function("today", 0, 0, _today, "the local date of the fire, in the process time zone"),
    Function("now", 0, 0, _now, "the instant of the fire (time-zone aware)"),
    Function("days_since", 1, 1, _days_since,
             "calendar days from a date to today: days_since(replied_on) <= 30"),
    Function("working_days_since", 1, 1, _working_days_since,
             "working days in (date, today]: working_days_since(received_on) <= 7"),
    Function("within", 2, 2, _within,
             "today is within a period from a date: within(replied_on, '30 days'), "
             "within(records_sealed_on, '3 years')",
             check_literal=_check_within),
    Function("len", 1, 1, _len, "length of a text or a list: len(resolution_team) > 0",
             pure=True),
    Function("coalesce", 1, MAX_ARGS, _coalesce,
             "the first argument that is set: coalesce(served_on, replied_on)", pure=True),
    Function("is_set", 1, 1, _is_set,
             "not null, not blank text, not an empty list: is_set(contact)", pure=True),
    Function("date", 1, 1, _date, "an ISO date literal: received_on >= date('2024-01-01')",
             pure=True),
)

FUNCTIONS: Mapping[str, Function] = MappingProxyType({f.name: f for f in _ALL})
