"""Calendar files: the integrator's holidays and working days, layered over the national data.

A file adds named days off and named working days (a city's local holiday, an office's
make-up day) and may declare `covers: [YEAR]` when it describes a whole year (the State
Council's notice for a year the package does not have yet). Files apply in order, later
ones winning, so an integrator lists the national-level file first and local ones after.
The format is documented in docs/calendar.md; a malformed file is refused with its
FILE:LINE:COL, never half-read.

A layered calendar is computed once into the same arrays as the national one, so adding
files costs nothing per query. `build_calendar` caches by the files' paths and contents:
engines that reference the same files share one calendar object.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ..errors import CalendarFileError, Location, did_you_mean
from ..records.marked_yaml import MarkedList, MarkedMap, YamlError, load_yaml
from .base import MAX_YEAR, MIN_YEAR, Calendar, TableCalendar, YearDays, dates_of_year
from .national import national_calendar

_TOP_KEYS = ("name", "covers", "holidays", "workdays")
_ENTRY_KEYS = ("date", "from", "to", "name")
_MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class CalendarLayer:
    """One calendar file, read: what it covers and the days it names."""

    name: str
    path: str
    covers: frozenset[int]
    holidays: Mapping[date, str]
    workdays: Mapping[date, str]

    @property
    def mentioned_years(self) -> frozenset[int]:
        """Every year the file names a day in (covered or not)."""
        return frozenset(d.year for d in (*self.holidays, *self.workdays))


# -- reading a file --------------------------------------------------------------------


def load_calendar_file(path: str) -> CalendarLayer:
    """Read and check one calendar file; raises `CalendarFileError` naming FILE:LINE:COL."""
    return _layer_from_text(_read_text(path), path)


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except UnicodeDecodeError:
        raise CalendarFileError(f"{path}:1:1: the file is not UTF-8 text") from None
    except OSError as exc:
        raise CalendarFileError(f"{path}: cannot read the calendar file: {exc.strerror}") from None


def _layer_from_text(text: str, path: str) -> CalendarLayer:
    layer, problems = read_calendar_text(text, path)
    if problems:
        raise CalendarFileError("\n".join(f"{loc}: {message}" for loc, message in problems))
    return layer


def read_calendar_text(text: str, path: str) -> tuple[CalendarLayer, list[tuple[Location, str]]]:
    """The layer a calendar text describes and every problem in it, each with its place
    (so `flowengine validate` reports a process's calendar files as it reports the process)."""
    try:
        data = load_yaml(text, path)
    except YamlError as exc:
        return CalendarLayer(path, path, frozenset(), {}, {}), [(exc.location, exc.message)]
    reader = _Reader(path)
    layer = reader.layer(data)
    return layer, reader.problems


class _Reader:
    """Checks a parsed file, collecting every problem so one run reports them all."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[tuple[Location, str]] = []

    def problem(self, loc: Location, message: str) -> None:
        self.problems.append((loc, message))

    def layer(self, data: Any) -> CalendarLayer:
        default_name = os.path.basename(self.path)
        if data is None:  # an empty file (comments only) adds nothing
            return CalendarLayer(default_name, self.path, frozenset(), {}, {})
        if not isinstance(data, MarkedMap):
            self.problem(Location(self.path, 1, 1), _top_hint("the file must be a mapping"))
            return CalendarLayer(default_name, self.path, frozenset(), {}, {})
        self.unknown_keys(data, _TOP_KEYS, "calendar file")
        holidays = self.days(data, "holidays")
        workdays = self.days(data, "workdays")
        self.not_both(holidays, workdays)
        return CalendarLayer(
            name=self.name(data, default_name),
            path=self.path,
            covers=self.covers(data),
            holidays={d: name for d, (name, _) in holidays.items()},
            workdays={d: name for d, (name, _) in workdays.items()},
        )

    def unknown_keys(self, m: MarkedMap, allowed: Sequence[str], what: str) -> None:
        for key in m:
            if key not in allowed:
                hint = did_you_mean(key, allowed) or f"allowed: {', '.join(allowed)}"
                self.problem(m.key_loc(key), f"unknown key '{key}' in a {what}; {hint}")

    def name(self, m: MarkedMap, default: str) -> str:
        value = m.get("name")
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            self.problem(m.loc_of("name"), "'name' must be a non-empty text")
            return default
        return value.strip()

    def covers(self, m: MarkedMap) -> frozenset[int]:
        value = m.get("covers")
        if value is None:
            return frozenset()
        if not isinstance(value, MarkedList):
            self.problem(m.loc_of("covers"), "'covers' must be a list of years, e.g. [2027]")
            return frozenset()
        years = set()
        for i, year in enumerate(value):
            if isinstance(year, bool) or not isinstance(year, int):
                self.problem(value.loc_of(i), f"'{year}' is not a year; write e.g. 2027")
            elif not MIN_YEAR <= year <= MAX_YEAR:
                self.problem(value.loc_of(i), f"year {year} is outside {MIN_YEAR}–{MAX_YEAR}")
            else:
                years.add(year)
        return frozenset(years)

    def days(self, m: MarkedMap, key: str) -> dict[date, tuple[str, Location]]:
        """The days of `holidays` or `workdays`, each with its name and where it was listed."""
        value = m.get(key)
        if value is None:
            return {}
        if not isinstance(value, MarkedList):
            self.problem(m.loc_of(key), f"'{key}' must be a list of {{date: …, name: …}} entries")
            return {}
        found: dict[date, tuple[str, Location]] = {}
        for i, entry in enumerate(value):
            for d, name in self.entry(entry, value.loc_of(i)):
                if d in found:
                    first = found[d][1]
                    self.problem(value.loc_of(i), f"{d} is listed twice in '{key}' "
                                 f"(first at line {first.line})")
                else:
                    found[d] = (name, value.loc_of(i))
        return found

    def entry(self, entry: Any, loc: Location) -> list[tuple[date, str]]:
        """One `{date, name}` or `{from, to, name}` entry as (day, name) pairs."""
        if not isinstance(entry, MarkedMap):
            self.problem(loc, "an entry must be {date: YYYY-MM-DD, name: …} "
                         "or {from: YYYY-MM-DD, to: YYYY-MM-DD, name: …}")
            return []
        self.unknown_keys(entry, _ENTRY_KEYS, "day entry")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problem(entry.loc_of("name"), "each entry needs a 'name' (e.g. 春节)")
            return []
        span = self.span(entry)
        return [(d, name.strip()) for d in span]

    def span(self, entry: MarkedMap) -> list[date]:
        if "date" in entry:
            if "from" in entry or "to" in entry:
                self.problem(entry.loc, "write either 'date' or 'from'/'to', not both")
                return []
            one = self.day(entry, "date")
            return [one] if one else []
        if "from" not in entry or "to" not in entry:
            self.problem(entry.loc, "an entry needs 'date', or both 'from' and 'to'")
            return []
        start, end = self.day(entry, "from"), self.day(entry, "to")
        if start is None or end is None:
            return []
        if end < start or (end - start).days >= _MAX_RANGE_DAYS:
            self.problem(entry.loc_of("to"), f"'to' ({end}) must be on or after 'from' "
                         f"({start}) and within a year of it")
            return []
        return [start + timedelta(days=i) for i in range((end - start).days + 1)]

    def day(self, entry: MarkedMap, key: str) -> date | None:
        value = entry[key]
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                pass
        if isinstance(value, datetime) or not isinstance(value, date):
            self.problem(entry.loc_of(key), f"'{key}' must be a date written YYYY-MM-DD")
            return None
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            self.problem(entry.loc_of(key), f"{value} is outside {MIN_YEAR}–{MAX_YEAR}")
            return None
        return value

    def not_both(self, holidays: Mapping[date, tuple[str, Location]],
                 workdays: Mapping[date, tuple[str, Location]]) -> None:
        for d in sorted(holidays.keys() & workdays.keys()):
            line = holidays[d][1].line
            self.problem(workdays[d][1], f"{d} is both a holiday (line {line}) and a "
                         f"working day; keep one")


def _top_hint(message: str) -> str:
    return f"{message} with keys name, covers, holidays, workdays (see docs/calendar.md)"


# -- layering ---------------------------------------------------------------------------


class LayeredCalendar(TableCalendar):
    """`base` with `layers` applied in order; a later layer wins on the same day.

    For each layer: every year in its `covers` is replaced by plain weekends (the file
    describes that year fully, so the year is official from then on, no longer
    provisional), then its holidays and working days are applied to every covered year.
    A provisional year stays provisional under a file that only names days in it (a local
    holiday in 2027 is added to the provisional rule). Days in a year nobody covers at
    all change nothing: that year stays refused.
    """

    def __init__(self, base: Calendar, layers: Sequence[CalendarLayer]):
        self.base = base
        self.layers = tuple(layers)
        years, sources, provisional = _years_of(base)
        for layer in self.layers:
            for year in layer.covers:
                years[year] = YearDays.weekends(year)
                sources[year] = layer.path
                provisional.discard(year)
            for year in layer.mentioned_years & years.keys():
                years[year] = years[year].with_days(layer.holidays, layer.workdays)
        super().__init__(years, sources, provisional)


def _years_of(base: Calendar) -> tuple[dict[int, YearDays], dict[int, str], set[int]]:
    """The covered years of any `Calendar` (copied from a table, else asked day by day),
    their sources, and which of them are provisional."""
    if isinstance(base, TableCalendar):
        return (
            {y: base.year_days(y) for y in base.years},
            {y: base.source(y) or type(base).__name__ for y in base.years},
            set(base.provisional_years),
        )
    years = {y: _ask_year(base, y) for y in range(MIN_YEAR, MAX_YEAR + 1) if base.covers(y)}
    provisional = {y for y in years if getattr(base, "provisional", lambda _y: False)(y)}
    return years, {y: type(base).__name__ for y in years}, provisional


def _ask_year(base: Calendar, year: int) -> YearDays:
    days = dates_of_year(year)
    flags = bytes(int(base.is_workday(d)) for d in days)
    names = {d: name for d in days if (name := base.day_name(d)) is not None}
    return YearDays(year, flags, names)


# -- building, with a cache -------------------------------------------------------------

_CacheKey = tuple[tuple[str, str], ...]
_cache: dict[_CacheKey, Calendar] = {}
_cache_lock = threading.Lock()
_CACHE_SIZE = 64


def build_calendar(files: Sequence[str] = ()) -> Calendar:
    """The national calendar with `files` layered on in order.

    Cached by each file's absolute path and content hash, so engines that reference the
    same files share one object, and an edited file is read afresh.
    """
    if not files:
        return national_calendar()
    return calendar_of_texts([(os.path.abspath(path), _read_text(path)) for path in files])


def calendar_of_texts(texts: Sequence[tuple[str, str]]) -> Calendar:
    """The national calendar with calendar files given as (name, text) layered on in
    order: how a definition's pinned calendar files are used, never looked up on disk again.
    Cached by names and content hashes."""
    if not texts:
        return national_calendar()
    key = tuple((name, hashlib.sha256(t.encode()).hexdigest()) for name, t in texts)
    with _cache_lock:
        found = _cache.get(key)
    if found is not None:
        return found
    layers = [_layer_from_text(text, name) for name, text in texts]
    built = LayeredCalendar(national_calendar(), layers)
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        return _cache.setdefault(key, built)
