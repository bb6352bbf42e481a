"""Driver exceptions turned into `StoreError`s that name what happened.

Why: a host embedding the engine should catch flowengine's documented errors, not
`sqlite3.OperationalError` or `psycopg.errors.*` (which differ per backend), and a user should
read "the database stayed locked for 30 s" instead of a raw "database is locked" after a
silent wait. Classified by PostgreSQL SQLSTATE or SQLite's message; anything else is a
`StoreError` carrying the driver's first line. The driver's exception stays the `__cause__`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError

from .errors import StoreBusy, StoreError, ValueRefused

T = TypeVar("T")

_BUSY_STATES = {"55P03": "a lock", "40P01": "a deadlock", "57014": "the statement timeout"}
_VALUE_STATES = {
    "22008": "a date or time outside the range the database holds",
    "22007": "a date or time the database cannot read",
    "22001": "a text longer than its database column allows",
    "22003": "a number too large for its database column",
    "22P05": "a character the database cannot store",
}


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def store_error(exc: BaseException, busy_seconds: float | None) -> StoreError | None:
    """The `StoreError` for a driver exception (None: not a database error)."""
    orig: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig else exc
    module = type(orig).__module__
    if isinstance(orig, OverflowError):
        return ValueRefused(f"the database refused a value: a number too large for its "
                            f"column ({first_line(orig)})")
    if not module.startswith(("sqlite3", "psycopg", "sqlalchemy")):
        return None
    detail = first_line(orig)
    state = getattr(orig, "sqlstate", None)
    low = detail.lower()
    if state in _BUSY_STATES or "database is locked" in low or "database is busy" in low:
        waited = "" if busy_seconds is None else f" for {busy_seconds:g} s"
        what = _BUSY_STATES.get(str(state), "the lock")
        return StoreBusy(f"the database is busy: another connection held {what}{waited} "
                         f"({detail}); retry, or keep the other writer's transactions "
                         f"short", busy_seconds if state is None or state == "55P03" else None)
    kind = _VALUE_STATES.get(str(state))
    if kind is None and "too large" in low:
        kind = _VALUE_STATES["22003"]
    if kind is not None:
        return ValueRefused(f"the database refused a value: {kind} ({detail})")
    return StoreError(f"the database refused the statement: {detail}")


def translated(busy: Callable[[Any], float | None]) -> Callable[[type[T]], type[T]]:
    """Class decorator: every public method (not generators) raises `StoreError`s instead
    of driver exceptions; `busy(store)` is the lock wait to report."""

    def wrap(cls: type[T]) -> type[T]:
        for name, func in list(vars(cls).items()):
            if (name.startswith("_") or not inspect.isfunction(func)
                    or inspect.isgeneratorfunction(func)):
                continue
            setattr(cls, name, _guard(func, busy))
        return cls

    return wrap


def _guard(func: Callable[..., Any], busy: Callable[[Any], float | None]) -> Callable[..., Any]:
    @functools.wraps(func)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(self, *args, **kwargs)
        except (DBAPIError, OverflowError) as exc:
            raise _or_same(exc, busy(self)) from exc
        except Exception as exc:
            if type(exc).__module__.startswith(("sqlite3", "psycopg")):
                raise _or_same(exc, busy(self)) from exc
            raise

    return guarded


def _or_same(exc: BaseException, waited: float | None) -> BaseException:
    return store_error(exc, waited) or exc
