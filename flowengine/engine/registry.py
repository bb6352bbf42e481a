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
from ..definition.folder import kind_of, yaml_files
from ..definition.model import ProcessDef
from ..errors import DefinitionError, Location, Problem, ProcessNotFound
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
    """The loaded definitions. `broken` holds, per file of a folder that could not be
    loaded, why: the folder's other processes still work (a file named on its own raises)."""

    def __init__(self) -> None:
        self._by_id: dict[str, ProcessDef] = {}
        self._by_digest: dict[str, CompiledProcess] = {}
        self._effective: dict[tuple[str, str], CompiledProcess] = {}
        self._current: dict[str, CompiledProcess] = {}  # `current`, emptied by every add
        self._folders: list[Path] = []
        self.broken: dict[str, DefinitionError] = {}

    def add_path(self, path: str | os.PathLike[str]) -> list[ProcessDef]:
        """Load a file, or every process file of a folder (a folder is remembered; which
        files are processes: `definition/folder.py`). Two files of a folder with the same
        id are both refused: which one new cases would use is not for file order to say."""
        p = Path(path)
        if not p.is_dir():
            return [self.add_file(p)]
        self._folders.append(p)
        loaded: dict[str, ProcessDef] = {}
        duplicated: set[str] = set()
        from ..definition.loader import load_process  # lazy: jsonschema only when loading

        for f in yaml_files(p):
            try:
                process = load_process(f)
                compiled(process)
            except DefinitionError as exc:
                if kind_of(f) == "process":
                    self.broken[str(f)] = exc
                continue
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the folder
                self.broken[str(f)] = _failure(f, exc)
                continue
            first = loaded.get(process.id)
            if first is not None:
                self._refuse_duplicate(first, process)
                duplicated.add(process.id)
                continue
            loaded[process.id] = process
        return [self.add(process) for pid, process in loaded.items() if pid not in duplicated]

    def _refuse_duplicate(self, first: ProcessDef, second: ProcessDef) -> None:
        for this, other in ((first, second), (second, first)):
            self.broken[this.location.file] = DuplicateId(this, other)

    def add_file(self, path: str | os.PathLike[str]) -> ProcessDef:
        from ..definition.loader import load_process  # lazy: jsonschema only when loading

        process = load_process(path)
        return self.add(process)

    def add(self, process: ProcessDef) -> ProcessDef:
        self._by_id[process.id] = process
        self._current.clear()  # a newer version may lay official years over older ones
        if process.digest not in self._by_digest:
            self._by_digest[process.digest] = compiled(process)
        return process

    def add_text(self, text: str, file: str) -> ProcessDef:
        """Load a pinned version from its stored text (for replaying old cases)."""
        from ..definition.loader import validate_text  # lazy: jsonschema only when loading

        process, problems = validate_text(text, file, pinned=True)
        if process is None or any(p.severity == "error" for p in problems):
            raise DefinitionError(problems)
        if process.digest not in self._by_digest:
            self._by_digest[process.digest] = compiled(process)
            self._current.clear()
        return process

    def latest(self, process_id: str) -> CompiledProcess:
        process = self._by_id.get(process_id)
        if process is None:
            if self.broken:
                raise ProcessNotFound(process_id, self._by_id, sorted(self.broken))
            raise ProcessNotFound(process_id, self._by_id)
        return self._by_digest[process.digest]

    def pinned(self, digest: str) -> CompiledProcess | None:
        return self._by_digest.get(digest)

    def current(self, digest: str) -> CompiledProcess | None:
        """`effective(pinned(digest))`, or None when the version is not loaded: kept per
        digest until a definition is added, so a fire pays one look-up for it."""
        found = self._current.get(digest)
        if found is None:
            cp = self._by_digest.get(digest)
            if cp is None:
                return None
            found = self._current[digest] = self.effective(cp)
        return found

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


class DuplicateId(DefinitionError):
    """Two files of one folder declare the same process id."""

    def __init__(self, this: ProcessDef, other: ProcessDef) -> None:
        self.process_id = this.id
        super().__init__([Problem(
            "FE109", f"process id '{this.id}' is also declared in {other.location.file}",
            this.locs.get("id", this.location),
            hint="one id per process: rename one of them or move it away")])


def _failure(path: Path, exc: Exception) -> DefinitionError:
    return DefinitionError([Problem("FE001", f"could not be loaded: {type(exc).__name__}: {exc}",
                                    Location(str(path), 1, 1))])
