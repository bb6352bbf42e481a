"""The exception tree, and `Problem`: one finding of the validator.

Every error the engine raises on purpose derives from `FlowengineError` and carries the
data a caller needs (file/line, case/trigger) plus a message that says what to do. The CLI
maps `exit_code` to the process exit status, so no command prints a traceback::

    FlowengineError                        exit 2 (usage or input error)
    ├── DefinitionError(problems)          a process YAML was refused; problems carry FILE:LINE:COL
    │   └── DuplicateId                    two files define the same process version (engine/registry.py)
    ├── ScenarioError                      a scenario file is malformed
    ├── CalendarYearMissing(year)          no calendar layer covers that year; never guessed
    ├── CalendarFileError                  a calendar YAML file is malformed
    ├── SettingsError                      the plugins' settings file is malformed (plugins/)
    ├── ProcessNotFound(process_id)
    ├── CaseNotFound(case_id)
    ├── TriggerRejected(case, trigger)     wrong role / missing data / guard false / wrong state
    │   └── InvalidData                    a value does not fit its declared type
    ├── ClockError                         an instant earlier than the case's last event
    ├── ConcurrentUpdate(case_id, seq)     another writer appended first; retry
    │   └── DuplicateStarted(open_case)    (internal) a same-petition start committed first
    ├── TransactionUnsupported             the store cannot join a host's transaction (engine/host.py)
    ├── UnknownDimension                   a report asked for a dimension it does not have (audit/report)
    ├── DatabaseProblem                    the database refused a CLI's query, said plainly (cli/common.py)
    ├── DatabaseUnavailable                the database URL cannot be opened (store/errors.py)
    │   └── FlushFailed                    a commit's flush failed: visible, maybe not durable
    ├── SchemaNotCurrent                   the database needs `flowengine db upgrade` (store/errors.py)
    ├── HostTransactionMissing             Engine.transaction(connection) without an open transaction
    ├── StoreError                         the database refused a statement; nothing written (store/errors.py)
    │   ├── StoreBusy                      it stayed locked past the busy timeout
    │   └── ValueRefused                   it cannot hold a value it was given
    └── IntegrityError                     exit 1: the thing checked is not fine
        ├── ChainBroken(case_id, seq)      the hash chain does not verify
        ├── ReplayMismatch(case_id, field) replayed state differs from the stored projection
        ├── RecordUnreadable(case_id)      a stored case record holds values it cannot hold
        ├── CheckpointError                a checkpoint unreadable, or its signature false (audit/)
        │   ├── LogDiverged                the log no longer extends a checkpoint
        │   └── LogUnreadable              a stored event the log needs cannot be read
        └── PinnedDefinitionBroken         a case's pinned definition text is missing or changed
            └── PinnedDefinitionMissing    its events name a version the store does not hold

Outside the tree, because callers turn them into one of the above (or into a retry) and
they never reach the CLI: `DataError` (engine/data.py; becomes InvalidData), `ExprError`
and `ExprEvalError` (expr/; become Problems or a refused guard), `YamlError`
(records/marked_yaml.py; becomes a Problem with its mark), `DeliveryError`
(plugins/notification.py; a delivery attempt failed, retried by the outbox),
`DataJsonError` (cli/json_input.py; the CLI turns a refused `--data` text into a usage
error naming the option).

Validation itself returns `list[Problem]` (values, not exceptions) so that `validate`
reports every problem at once; `DefinitionError` wraps them when loading must stop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from difflib import get_close_matches
from typing import ClassVar, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Location:
    """A place in a YAML file; line and column are 1-based, as editors count them."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    """One validator finding. `code` is stable and documented in docs/validation.md."""

    code: str
    message: str
    location: Location
    severity: Severity = "error"
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.location}: {self.severity} {self.code}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "col": self.location.col,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A "did you mean 'x'?" suffix when a near name exists, else an empty string."""
    close = get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


class FlowengineError(Exception):
    """Base of every error the engine raises on purpose."""

    exit_code: ClassVar[int] = 2


class DefinitionError(FlowengineError):
    """A process definition was refused; `problems` lists every finding with its place."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__("\n".join(str(p) for p in errors or problems))


class ScenarioError(FlowengineError):
    """A scenario file is malformed (not: an expectation failed, which is a result)."""


class CalendarYearMissing(FlowengineError):
    """No calendar layer covers `year`: the engine refuses rather than guess."""

    def __init__(self, year: int, hint_file: str | None = None):
        self.year = year
        self.hint_file = hint_file or f"calendars/cn-{year}.yaml"
        super().__init__(
            f"no calendar covers {year}: add a calendar file for {year} "
            f"(for example {self.hint_file}, from the State Council's holiday notice) "
            f"and reference it under 'calendars:' in the process YAML"
        )


class CalendarFileError(FlowengineError):
    """A calendar YAML file is malformed."""


class ProcessNotFound(FlowengineError):
    def __init__(self, process_id: str, known: Iterable[str] = (), broken: Iterable[str] = ()):
        self.process_id = process_id
        known = list(known)
        hint = did_you_mean(process_id, known)
        msg = f"no process '{process_id}' in the process folders"
        if hint:
            msg += f"; {hint}"
        elif known:
            msg += f"; known: {', '.join(sorted(known))}"
        broken = list(broken)
        if broken:
            msg += f"; not loaded because of errors: {', '.join(broken)}"
        super().__init__(msg)


class CaseNotFound(FlowengineError):
    def __init__(self, case_id: str):
        self.case_id = case_id
        super().__init__(f"no case '{case_id}'")


@dataclass(frozen=True)
class Rejection:
    """One reason a trigger was refused, and what would make it pass."""

    check: Literal["state", "role", "required", "guard", "data", "route", "extension"]
    message: str
    missing: tuple[str, ...] = ()  # "required": the fields to give (the CLI adds how)


class TriggerRejected(FlowengineError):
    """A trigger was refused; nothing changed. `reasons` says which checks failed."""

    def __init__(self, case_id: str, trigger: str, state: str, reasons: list[Rejection]):
        self.case_id = case_id
        self.trigger = trigger
        self.state = state
        self.reasons = reasons
        text = "; ".join(r.message for r in reasons)
        super().__init__(f"case {case_id}: '{trigger}' rejected in state '{state}': {text}")


class InvalidData(TriggerRejected):
    """A data value does not fit its field's declared type or constraints (a refusal like
    any other: catching `TriggerRejected` catches it too)."""

    def __init__(self, case_id: str, trigger: str, state: str, message: str):
        super().__init__(case_id, trigger, state, [Rejection("data", message)])


class ClockError(FlowengineError):
    """An instant was refused (earlier than the case's last event, or naive)."""


class ConcurrentUpdate(FlowengineError):
    """Another writer appended an event to the case first; reload and retry."""

    def __init__(self, case_id: str, seq: int):
        self.case_id = case_id
        self.seq = seq
        super().__init__(
            f"case {case_id}: event {seq} was written by someone else first; "
            f"reload the case and try again"
        )


class DuplicateStarted(ConcurrentUpdate):
    """A start raced another start of the same petition (same duplicate key) and lost: the
    other case is open now. The engine plans the start again as its duplicate."""

    def __init__(self, case_id: str, open_case: str):
        self.open_case = open_case
        super().__init__(case_id, 1)


class IntegrityError(FlowengineError):
    """The thing checked is not fine (exit 1), as opposed to a usage error."""

    exit_code: ClassVar[int] = 1


class ChainBroken(IntegrityError):
    def __init__(self, case_id: str, seq: int, why: str):
        self.case_id = case_id
        self.seq = seq
        self.why = why
        super().__init__(f"case {case_id}: event {seq}: {why}")


class ReplayMismatch(IntegrityError):
    def __init__(self, case_id: str, field_name: str, stored: object, replayed: object):
        self.case_id = case_id
        self.field_name = field_name
        super().__init__(
            f"case {case_id}: stored {field_name} {stored!r} differs from replayed {replayed!r}"
        )


class RecordUnreadable(IntegrityError):
    """A stored case record cannot be decoded (changed behind the engine's back)."""

    def __init__(self, case_id: str | None, why: str):
        self.case_id = case_id
        whose = f"case {case_id}: the stored case record" if case_id else "a stored case record"
        super().__init__(f"{whose} cannot be read ({why})")
