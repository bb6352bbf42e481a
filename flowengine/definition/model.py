"""The process definition as frozen data: what the YAML says, checked, nothing more.

A `ProcessDef` is shared by every case of its version and never changes after loading;
compiling it for execution is a separate step (`engine.compiler`). Every node keeps the
`Location` it came from so later checks and runtime errors can still point at the YAML.
Names ending in `Def` are definitions; runtime records (Case, Deadline …) live in `engine`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal

from ..errors import Location
from ..records.lifecycle import NotificationKind

FieldType = Literal[
    "string", "text", "enum", "money", "integer", "boolean", "date", "datetime", "list"
]

DurationUnit = Literal["minutes", "hours", "days", "working_days"]

_DURATION_RE = re.compile(
    r"^\s*(\d{1,9})\s*(minute|minutes|hour|hours|day|days|working day|working days|"
    r"workday|workdays)\s*$"
)
_UNITS = {
    "minute": "minutes", "minutes": "minutes", "hour": "hours", "hours": "hours",
    "day": "days", "days": "days", "working day": "working_days",
    "working days": "working_days", "workday": "working_days", "workdays": "working_days",
}


class _Located:
    """`at(key)`: where a sub-key of a definition stands in the YAML (every Def keeps the
    flattened locations of its keys in `locs`, so a check can point at the exact node)."""

    location: Location
    locs: Mapping[str, Location]

    def at(self, key: str) -> Location:
        """Where `key` (e.g. "dest", "source[1]", "start.trigger") stands in the YAML."""
        return self.locs.get(key, self.location)


@dataclass(frozen=True)
class Duration:
    """A length such as `60 days`, `7 working days`, `2 hours`."""

    amount: int
    unit: DurationUnit

    @classmethod
    def parse(cls, text: object) -> Duration:
        """Parse `N minutes|hours|days|working days`; raises ValueError with the accepted form."""
        m = _DURATION_RE.match(str(text)) if isinstance(text, (str, int)) else None
        if not m:
            raise ValueError(
                f"'{text}' is not a duration; write N minutes, N hours, N days or N working days"
            )
        return cls(int(m.group(1)), _UNITS[m.group(2)])  # type: ignore[arg-type]

    def __str__(self) -> str:
        unit = self.unit.replace("_", " ")
        return f"{self.amount} {unit[:-1] if self.amount == 1 else unit}"


@dataclass(frozen=True)
class FieldDef(_Located):
    """A typed case data field. `required` means required when the case starts."""

    name: str
    type: FieldType
    location: Location
    title: str = ""
    required: bool = False
    default: Any = None
    values: tuple[str, ...] = ()  # enum members
    value_titles: Mapping[str, str] = field(default_factory=dict)  # enum member -> its title
    minimum: Decimal | None = None  # money / integer
    maximum: Decimal | None = None
    max_length: int | None = None  # string / text
    items: FieldType | None = None  # list item type
    min_items: int | None = None
    locs: Mapping[str, Location] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Requirement:
    """Fields that must hold a non-empty value, optionally only when `when` is true.
    `given`: the value must come with this fire itself; one an earlier fire recorded does
    not count (a fresh agreement for each extension, both sides present at each unsealing)."""

    fields: tuple[str, ...]
    location: Location
    when: str | None = None
    given: bool = False


@dataclass(frozen=True)
class StateDef:
    name: str
    location: Location
    title: str = ""
    initial: bool = False
    final: bool = False
    requires: tuple[Requirement, ...] = ()  # what a case must hold to enter this state


@dataclass(frozen=True)
class GuardDef:
    """A boolean expression over case data, actor and clock; `message` explains a refusal."""

    expr: str
    location: Location
    message: str = ""


@dataclass(frozen=True)
class TransitionDef(_Located):
    """One `transitions:` entry. `dest` None and `route` None = a self-trigger (stays put)."""

    trigger: str
    sources: tuple[str, ...]  # "*" expanded to every non-final state by the loader
    location: Location
    dest: str | None = None
    route: str | None = None  # decision table choosing the dest
    roles: tuple[str, ...] = ()  # empty: any role may fire it
    requires: tuple[Requirement, ...] = ()
    accepts: tuple[str, ...] = ()  # optional data the fire may record
    guards: tuple[GuardDef, ...] = ()
    set: Mapping[str, Any] = field(default_factory=dict)  # literal values
    compute: Mapping[str, str] = field(default_factory=dict)  # field -> expression
    clear: tuple[str, ...] = ()
    signs: bool = False  # record the actor's signature (see has_signed())
    title: str = ""
    locs: Mapping[str, Location] = field(default_factory=dict, compare=False, repr=False)

    @property
    def internal(self) -> bool:
        return self.dest is None and self.route is None

    @cached_property
    def records(self) -> frozenset[str]:
        """The fields a fire of this transition may be given: requires + accepts."""
        return frozenset(self.accepts).union(*(r.fields for r in self.requires))


@dataclass(frozen=True)
class DecisionRow(_Located):
    """A row of a decision table: a numeric range over the input and/or an expression."""

    dest: str
    location: Location
    over: Decimal | None = None  # >   (超过)
    at_least: Decimal | None = None  # >=  (以上)
    under: Decimal | None = None  # <   (不满)
    at_most: Decimal | None = None  # <=  (以下/以内)
    when: str | None = None
    locs: Mapping[str, Location] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class DecisionTable(_Located):
    """Routing by the first matching row; no matching row is a clear rejection."""

    name: str
    rows: tuple[DecisionRow, ...]
    location: Location
    input: str | None = None  # the field the numeric ranges compare
    locs: Mapping[str, Location] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Anchor:
    """When a deadline starts or stops: case start, some triggers, entering/leaving states."""

    location: Location
    started: bool = False
    triggers: tuple[str, ...] = ()
    enter: tuple[str, ...] = ()
    leave: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExtensionDef:
    """How a deadline may be extended: by which self-trigger, how far in total, by whom."""

    trigger: str
    location: Location
    max_total: Duration | None = None
    max_count: int | None = None
    days_field: str = "days"  # how much; absent -> what is left of max_total
    reason_field: str | None = "reason"  # required when set
    after_due: str = "refuse"  # refuse | allow: may an ended period still be extended?


@dataclass(frozen=True)
class DueFieldDef:
    """Take the due date from a data field (e.g. `assigned_due`) when `when` holds."""

    field: str
    location: Location
    when: str | None = None


@dataclass(frozen=True)
class OverdueDef:
    """What happens at the due instant: mark the case overdue, and maybe fire a trigger."""

    location: Location
    mark: bool = True
    fire: str | None = None  # a timeout action: the deadline becomes `expired`


@dataclass(frozen=True)
class DeadlineDef(_Located):
    name: str
    start: Anchor
    stop: Anchor
    location: Location
    title: str = ""
    supersede: Anchor | None = None  # ends it as `superseded`: neither met nor overdue
    length: Duration | None = None
    due_field: DueFieldDef | None = None
    unless: str | None = None  # expression: the deadline does not run when true at start
    roll_forward: bool = True  # day periods: a last day that is a rest day rolls forward
    pause_in: tuple[str, ...] = ()
    warn: Duration | None = None  # how long before due to warn
    extension: ExtensionDef | None = None
    on_overdue: OverdueDef | None = None
    kpi: tuple[str, ...] = ()  # report figures it answers: timely_acceptance, on_time_reply, …
    locs: Mapping[str, Location] = field(default_factory=dict, compare=False, repr=False)

    @property
    def anchors(self) -> tuple[tuple[str, Anchor], ...]:
        """(key, anchor) of `start`, `stop` and, when declared, `supersede`."""
        own = (("start", self.start), ("stop", self.stop))
        return own if self.supersede is None else (*own, ("supersede", self.supersede))


@dataclass(frozen=True)
class NotifyOn:
    """The event a notification answers: case start, triggers, states, or deadline events."""

    location: Location
    started: bool = False
    triggers: tuple[str, ...] = ()
    enter: tuple[str, ...] = ()
    deadlines: tuple[str, ...] = ()  # "*" = any deadline
    deadline_event: NotificationKind | None = None


@dataclass(frozen=True)
class NotificationDef(_Located):
    name: str
    on: NotifyOn
    location: Location
    to: tuple[str, ...] = ()  # petitioner | owner | supervisor | a role | field:NAME
    channel: str | None = None
    title: str = ""  # e.g. 延期告知; delivery uses it as a subject
    message: Mapping[str, str] = field(default_factory=dict)  # language -> template
    when: str | None = None  # sent only when this expression is true after the step
    locs: Mapping[str, Location] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class StartDef(_Located):
    """What starting a case requires (besides fields marked `required`) and may record."""

    location: Location
    roles: tuple[str, ...] = ()
    requires: tuple[Requirement, ...] = ()
    accepts: tuple[str, ...] = ()  # optional data a start may record
    locs: Mapping[str, Location] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ListDef(_Located):
    """A duty list (责任清单) `flowengine lists` produces: the cases for which `when`
    holds, one row each, with these fields as columns."""

    name: str
    columns: tuple[str, ...]
    location: Location
    title: str = ""
    when: str | None = None
    locs: Mapping[str, Location] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class DuplicateFlagDef:
    """A boolean field the engine sets on a new case whose earlier case (same
    `duplicate_key`) satisfies `when` (evaluated on the earlier case's data)."""

    field: str
    when: str
    location: Location


@dataclass(frozen=True)
class ProcessDef(_Located):
    """A loaded, checked process definition. `digest` is the SHA-256 of `source_text`: the
    file's bytes, plus the texts of its calendar files when it lists any."""

    id: str
    version: str
    title: str
    timezone: str
    location: Location
    digest: str
    fields: Mapping[str, FieldDef]
    states: Mapping[str, StateDef]
    transitions: tuple[TransitionDef, ...]
    start: StartDef
    decisions: Mapping[str, DecisionTable] = field(default_factory=dict)
    deadlines: Mapping[str, DeadlineDef] = field(default_factory=dict)
    notifications: Mapping[str, NotificationDef] = field(default_factory=dict)
    roles: tuple[str, ...] = ()
    calendars: tuple[str, ...] = ()  # calendar files as written (relative to the process file)
    duplicate_key: tuple[str, ...] = ()
    duplicate_lookback: Duration | None = None  # finished cases count as earlier ones too
    duplicate_flag: DuplicateFlagDef | None = None
    require_titles: bool = False  # FE409 warns about a missing title or an English gloss
    lists: Mapping[str, ListDef] = field(default_factory=dict)  # duty lists (四个清单)
    # the YAML as loaded, with its calendar files appended (definition/calendars.py), kept so
    # a pinned version can be replayed; `digest` is its SHA-256
    source_text: str = ""
    calendar_texts: tuple[tuple[str, str], ...] = ()  # (name, text) of each calendar file
    locs: Mapping[str, Location] = field(default_factory=dict, compare=False, repr=False)

    # Derived once per definition (frozen: they cannot go stale); every fire reads them.
    @cached_property
    def initial_state(self) -> str:
        return next(s.name for s in self.states.values() if s.initial)

    @cached_property
    def final_states(self) -> frozenset[str]:
        return frozenset(s.name for s in self.states.values() if s.final)

    @cached_property
    def triggers(self) -> frozenset[str]:
        return frozenset(t.trigger for t in self.transitions)

    @cached_property
    def computed_by(self) -> Mapping[str, str]:
        """field -> the first trigger whose `compute` writes it (never given as data at start)."""
        out: dict[str, str] = {}
        for t in self.transitions:
            for name in t.compute:
                out.setdefault(name, t.trigger)
        return out
