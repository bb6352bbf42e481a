"""What every check is given and how it reports: the process under check with its lookups,
and the locations, hints and number wording that all problem messages share, so that every
family of checks points and words alike."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ...errors import Location, Problem, Severity, did_you_mean
from ..model import FieldDef, ProcessDef, Requirement

SIGNATURES = "signatures"  # built-in list field written by `signs: true` transitions


@dataclass
class Context:
    """The process under check plus the lookups every check needs."""

    process: ProcessDef
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.file = self.process.location.file
        self.lines = self.process.source_text.split("\n")
        self.fields: Mapping[str, FieldDef] = self.process.fields
        self.known_fields = set(self.fields) | {SIGNATURES}

    def add(self, code: str, message: str, loc: Location, severity: Severity = "error",
            hint: str = "") -> None:
        self.problems.append(Problem(code, message, loc, severity, hint))


def location_of(defn: Any, *keys: str) -> Location:
    """The location of the first of `keys` that `defn` knows, else `defn.location`."""
    locs: Mapping[str, Location] = getattr(defn, "locs", {})
    for key in keys:
        if key in locs:
            return locs[key]
    return defn.location  # type: ignore[no-any-return]


def with_locations(defn: Any, key: str, names: Iterable[str]) -> Iterator[tuple[str, Location]]:
    """(name, location) for a `names` value written as one name or as a list."""
    for i, name in enumerate(names):
        yield name, location_of(defn, f"{key}[{i}]", key)


def unknown_hint(name: str, known: Iterable[str], where: str) -> str:
    """For an unknown `name`: the near name, else the known ones when few, else where to
    declare it."""
    known = sorted(set(known))
    near = did_you_mean(name, known)
    if near:
        return near
    if known and len(known) <= 12:
        return f"known: {', '.join(known)}"
    return f"declare it under '{where}:'"


def number_text(value: Decimal) -> str:
    """A number as written by people: 30000, 0.01, never 3E+4."""
    if value.is_infinite():
        return "∞" if value > 0 else "-∞"
    if value.is_nan():
        return "NaN"
    if abs(value.adjusted()) > 24:  # 1e300 as written, not 301 digits
        return format(value.normalize(), "E").replace("E+", "e").replace("E", "e")
    return format(value.normalize(), "f")


def unconditional_fields(requires: Iterable[Requirement]) -> set[str]:
    """The fields `requires` asks for every time (a requirement with `when` may not apply)."""
    return {f for r in requires if not r.when for f in r.fields}
