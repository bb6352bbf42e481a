"""Process definitions known to an engine: by id (the newest loaded) and by digest (pinned).

A case is pinned to the digest of the definition it started with; editing a YAML file and
loading it again makes new cases use the new version while running cases keep theirs. The
compiled form (Machine, expressions, calendar) is built once per digest and shared.

One thing a pinned version takes from the newest one: the official holiday arrangement of
a year its own calendar answers only provisionally (a calendar file with `covers: [2027]`
added to the process once the State Council's notice is out). `effective` layers those
years over the pinned calendar, so running cases are recomputed with the official data
(`Engine.reconcile`) and keep using it, while everything else stays as pinned.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..calendar import (
    CalendarLayer,
    LayeredCalendar,
    TableCalendar,
    build_calendar,
    calendar_of_texts,
)
from ..definition.loader import load_process, validate_text
from ..definition.model import ProcessDef
from ..errors import DefinitionError, ProcessNotFound
from .compiler import CompiledProcess

_COMPILED: dict[tuple[str, int], CompiledProcess] = {}


def compiled(process: ProcessDef) -> CompiledProcess:
    """The compiled form of `process`, shared by every engine in this interpreter: keyed by
    the definition's digest and its calendar (itself shared by content), both immutable."""
    if process.calendar_texts or not process.calendars:
        calendar = calendar_of_texts(process.calendar_texts)
    else:  # a definition stored before calendar files were pinned with it: as it was then
        calendar = build_calendar(process.calendars)
    key = (process.digest, id(calendar))
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = CompiledProcess(process, calendar)
    return found


def official_years(calendar: object) -> frozenset[int]:
    """The years `calendar` answers from official data (covered, not provisional)."""
    if not isinstance(calendar, TableCalendar):
        return frozenset()
    return frozenset(calendar.years) - calendar.provisional_years


def _official_layers(newest: object, years: frozenset[int]) -> list[CalendarLayer]:
    """The calendar files of `newest` that cover some of `years`, cut down to those years
    (their other days stay as the pinned calendar has them)."""
    if not isinstance(newest, LayeredCalendar):
        return []
    out = []
    for layer in newest.layers:
        covers = layer.covers & years
        if covers:
            out.append(CalendarLayer(
                layer.name, layer.path, covers,
                {d: n for d, n in layer.holidays.items() if d.year in covers},
                {d: n for d, n in layer.workdays.items() if d.year in covers}))
    return out


class Registry:
    def __init__(self) -> None:
        self._by_id: dict[str, ProcessDef] = {}
        self._by_digest: dict[str, CompiledProcess] = {}
        self._effective: dict[tuple[str, str], CompiledProcess] = {}
        self._folders: list[Path] = []

    def add_path(self, path: str | os.PathLike[str]) -> list[ProcessDef]:
        """Load a file, or every *.yaml / *.yml file of a folder (a folder is remembered)."""
        p = Path(path)
        if p.is_dir():
            self._folders.append(p)
            files = sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
            return [self.add_file(f) for f in files]
        return [self.add_file(p)]

    def add_file(self, path: str | os.PathLike[str]) -> ProcessDef:
        process = load_process(path)
        return self.add(process)

    def add(self, process: ProcessDef) -> ProcessDef:
        self._by_id[process.id] = process
        if process.digest not in self._by_digest:
            self._by_digest[process.digest] = compiled(process)
        return process

    def add_text(self, text: str, file: str) -> ProcessDef:
        """Load a pinned version from its stored text (for replaying old cases)."""
        process, problems = validate_text(text, file, pinned=True)
        if process is None or any(p.severity == "error" for p in problems):
            raise DefinitionError(problems)
        if process.digest not in self._by_digest:
            self._by_digest[process.digest] = compiled(process)
        return process

    def latest(self, process_id: str) -> CompiledProcess:
        process = self._by_id.get(process_id)
        if process is None:
            raise ProcessNotFound(process_id, self._by_id)
        return self._by_digest[process.digest]

    def pinned(self, digest: str) -> CompiledProcess | None:
        return self._by_digest.get(digest)

    def effective(self, cp: CompiledProcess) -> CompiledProcess:
        """`cp` with the official years of the newest loaded version of its process laid
        over the years `cp`'s own calendar has only provisionally (see the module doc)."""
        newest = self._by_id.get(cp.process.id)
        if newest is None or newest.digest == cp.process.digest:
            return cp
        key = (cp.process.digest, newest.digest)
        found = self._effective.get(key)
        if found is None:
            latest = self._by_digest[newest.digest].calendar
            pending = frozenset(getattr(cp.calendar, "provisional_years", ()))
            layers = _official_layers(latest, pending & official_years(latest))
            found = cp if not layers else CompiledProcess(
                cp.process, LayeredCalendar(cp.calendar, layers))
            self._effective[key] = found
        return found

    def ids(self) -> Iterable[str]:
        return self._by_id.keys()
