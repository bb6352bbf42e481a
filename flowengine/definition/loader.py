"""`load_process(path)`: parse, check the structure, build the frozen model, check the meaning.

The steps run in order and stop at the first that has errors, so later steps can trust
what earlier ones checked (the builder trusts the schema; the semantic checks trust the
builder). `validate_file` returns every problem instead of raising, for `flowengine validate`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from typing import Any

from ..errors import DefinitionError, Location, Problem
from ..records.marked_yaml import MarkedList, MarkedMap, YamlError, load_yaml
from . import calendars, checks
from .model import (
    Anchor,
    DeadlineDef,
    DecisionRow,
    DecisionTable,
    DueFieldDef,
    DuplicateFlagDef,
    Duration,
    ExtensionDef,
    FieldDef,
    GuardDef,
    ListDef,
    NotificationDef,
    NotifyOn,
    OverdueDef,
    ProcessDef,
    Requirement,
    StartDef,
    StateDef,
    TransitionDef,
)
from .schema import schema_problems

DEFAULT_TIMEZONE = "Asia/Shanghai"


def load_process(path: str | os.PathLike[str]) -> ProcessDef:
    """Load and check one process file; raises `DefinitionError` listing every error."""
    process, problems = validate_file(path)
    if process is None or any(p.severity == "error" for p in problems):
        raise DefinitionError(problems)
    return process


def validate_file(path: str | os.PathLike[str]) -> tuple[ProcessDef | None, list[Problem]]:
    """All problems of one file (errors and warnings) and the model when it could be built."""
    file = os.fspath(path)
    try:
        with open(file, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        return None, [Problem("FE001", f"cannot read the file: {exc.strerror}", Location(file))]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem("FE001", f"the file is not UTF-8 (byte {exc.start})",
                              Location(file, 1, 1))]
    return validate_text(text, file)


def validate_text(text: str, file: str = "<string>", *,
                  pinned: bool = False) -> tuple[ProcessDef | None, list[Problem]]:
    """Like `validate_file` for YAML text already in memory (`file` names it in messages;
    calendar files are read relative to it). `pinned`: a stored definition text, whose
    calendar texts, if any, are in the text itself (never read from disk again)."""
    process, problems = _parse_and_build(text, file)
    if process is None:
        return None, list(problems)
    if process.calendars and not process.calendar_texts and not pinned:
        where = [process.at(f"calendars[{i}]") for i in range(len(process.calendars))]
        texts, found = calendars.read_calendars(process.calendars, file, where)
        if found:
            return process, [*found, *checks.check_process(process)]
        bundled, _ = _parse_and_build(calendars.make_bundle(text, texts), file)
        assert bundled is not None  # the same process text, which built above
        process = bundled
    return process, checks.check_process(process)


@lru_cache(maxsize=256)
def _parse_and_build(text: str, file: str) -> tuple[ProcessDef | None, tuple[Problem, ...]]:
    """Parse, check the structure and build the frozen model: a pure function of the text,
    cached, because every engine, scenario and replay loading the same bytes would otherwise
    parse them again (PyYAML's pure-Python parser is most of the cost of loading). A
    bundle's calendar texts (definition/calendars.py) are split off here; the files of a
    process file are read by `validate_text`, never by the checks."""
    try:
        doc = load_yaml(text, file)
    except YamlError as exc:
        return None, (Problem("FE100", exc.message, exc.location),)
    problems = schema_problems(doc, file)
    if problems:
        return None, tuple(problems)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    process = build_process(doc, file, digest, text)
    _, pinned = calendars.split_bundle(text)
    if pinned:
        if tuple(name for name, _ in pinned) != process.calendars:
            return None, (Problem("FE230", "the calendar files appended to this definition do "
                                  "not match its 'calendars:' list", process.location),)
        process = dataclasses.replace(process, calendar_texts=pinned)
    return process, ()


# ----------------------------------------------------------------------------- building


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _locs(node: Any, prefix: str = "") -> dict[str, Location]:
    """Flatten the locations under a marked node: 'dest', 'source[1]', 'start.trigger'."""
    out: dict[str, Location] = {}
    if isinstance(node, MarkedMap):
        for key, value in node.items():
            name = f"{prefix}{key}"
            out[name] = node.loc_of(key)
            out[f"{name}:key"] = node.key_loc(key)
            out.update(_locs(value, f"{name}."))
    elif isinstance(node, MarkedList):
        base = prefix[:-1] if prefix.endswith(".") else prefix
        for i, value in enumerate(node):
            out[f"{base}[{i}]"] = node.loc_of(i)
            out.update(_locs(value, f"{base}[{i}]."))
    return out


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _duration(value: Any) -> Duration | None:
    return None if value is None else Duration.parse(value)


def build_process(doc: MarkedMap, file: str, digest: str, text: str = "") -> ProcessDef:
    """Turn a schema-valid document into the frozen model (no semantic checks here)."""
    states = {name: _state(name, body, doc["states"].loc_of(name))
              for name, body in doc["states"].items()}
    non_final = tuple(n for n, s in states.items() if not s.final)
    return ProcessDef(
        id=doc["id"],
        version=str(doc.get("version", "1")),
        title=doc.get("title", doc["id"]),
        timezone=doc.get("timezone", DEFAULT_TIMEZONE),
        location=doc.loc,
        digest=digest,
        fields={n: _field(n, b) for n, b in doc.get("fields", {}).items()},
        states=states,
        transitions=tuple(_transition(t, non_final) for t in doc["transitions"]),
        start=_start(doc.get("start") or MarkedMap(), doc.loc),
        decisions={n: _decision(n, b) for n, b in doc.get("decisions", {}).items()},
        deadlines={n: _deadline(n, b) for n, b in doc.get("deadlines", {}).items()},
        notifications={n: _notification(n, b) for n, b in doc.get("notifications", {}).items()},
        roles=_names(doc.get("roles")),
        calendars=tuple(str(c) for c in doc.get("calendars", ())),
        duplicate_key=_names(doc.get("duplicate_key")),
        duplicate_lookback=_duration(doc.get("duplicate_lookback")),
        duplicate_flag=None if (flag := doc.get("duplicate_flag")) is None else DuplicateFlagDef(
            field=flag["field"], when=flag["when"], location=flag.loc),
        require_titles=bool(doc.get("require_titles", False)),
        lists={n: ListDef(n, _names(b["columns"]), b.loc, b.get("title", ""), b.get("when"), _locs(b))
               for n, b in doc.get("lists", {}).items()},
        source_text=text,
        locs=_locs(doc),
    )


def _state(name: str, body: Any, loc: Location) -> StateDef:
    body = body or {}
    where = getattr(body, "loc", loc)
    return StateDef(name=name, location=where, title=body.get("title", ""),
                    initial=bool(body.get("initial")), final=bool(body.get("final")),
                    requires=_requirements(body.get("requires"), where))


def _field(name: str, b: MarkedMap) -> FieldDef:
    return FieldDef(
        name=name, type=b["type"], location=b.loc, title=b.get("title", ""),
        required=bool(b.get("required")), default=b.get("default"),
        values=tuple(b.get("values", ())), value_titles=dict(b.get("value_titles") or {}),
        minimum=_dec(b.get("min")), maximum=_dec(b.get("max")),
        max_length=b.get("max_length"), items=b.get("items"), min_items=b.get("min_items"),
        locs=_locs(b),
    )


def _requirements(items: Iterable[Any] | None, loc: Location) -> tuple[Requirement, ...]:
    out = []
    for i, item in enumerate(items or ()):
        where = items.loc_of(i) if isinstance(items, MarkedList) else loc
        if isinstance(item, str):
            out.append(Requirement(fields=(item,), location=where))
        else:
            out.append(Requirement(fields=_names(item["fields"]), location=where,
                                   when=item.get("when"), given=bool(item.get("given"))))
    return tuple(out)


def _guards(value: Any, loc: Location) -> tuple[GuardDef, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (GuardDef(expr=value, location=loc),)
    out = []
    for i, item in enumerate(value):
        where = value.loc_of(i)
        if isinstance(item, str):
            out.append(GuardDef(expr=item, location=where))
        else:
            out.append(GuardDef(expr=item["expr"], location=item.loc_of("expr"),
                                message=item.get("message", "")))
    return tuple(out)


def _transition(t: MarkedMap, non_final: tuple[str, ...]) -> TransitionDef:
    source = t["source"]
    return TransitionDef(
        trigger=t["trigger"],
        sources=non_final if source == "*" else _names(source),
        location=t.loc,
        dest=t.get("dest"),
        route=t.get("route"),
        roles=_names(t.get("roles")),
        requires=_requirements(t.get("requires"), t.loc_of("requires")),
        accepts=_names(t.get("accepts")),
        guards=_guards(t.get("guard"), t.loc_of("guard")),
        set=dict(t.get("set") or {}),
        compute=dict(t.get("compute") or {}),
        clear=_names(t.get("clear")),
        signs=bool(t.get("signs")),
        title=t.get("title", ""),
        locs=_locs(t),
    )


def _start(b: MarkedMap, loc: Location) -> StartDef:
    return StartDef(location=getattr(b, "loc", loc), roles=_names(b.get("roles")),
                    requires=_requirements(b.get("requires"), getattr(b, "loc", loc)),
                    accepts=_names(b.get("accepts")), locs=_locs(b))


def _decision(name: str, b: MarkedMap) -> DecisionTable:
    rows = tuple(
        DecisionRow(dest=r["dest"], location=r.loc, over=_dec(r.get("over")),
                    at_least=_dec(r.get("at_least")), under=_dec(r.get("under")),
                    at_most=_dec(r.get("at_most")), when=r.get("when"), locs=_locs(r))
        for r in b["rows"]
    )
    return DecisionTable(name=name, rows=rows, location=b.loc, input=b.get("input"),
                         locs=_locs(b))


def _anchor(b: MarkedMap) -> Anchor:
    return Anchor(location=b.loc, started=bool(b.get("started")),
                  triggers=_names(b.get("trigger")), enter=_names(b.get("enter")),
                  leave=_names(b.get("leave")))


def _deadline(name: str, b: MarkedMap) -> DeadlineDef:
    due = b.get("due_field")
    if isinstance(due, str):
        due_def = DueFieldDef(field=due, location=b.loc_of("due_field"))
    elif due is not None:
        due_def = DueFieldDef(field=due["field"], location=due.loc, when=due.get("when"))
    else:
        due_def = None
    ext = b.get("extension")
    over = b.get("on_overdue")
    sup = b.get("supersede")
    return DeadlineDef(
        name=name, start=_anchor(b["start"]), stop=_anchor(b["stop"]), location=b.loc,
        supersede=None if sup is None else _anchor(sup),
        title=b.get("title", ""), length=_duration(b.get("length")), due_field=due_def,
        unless=b.get("unless"), roll_forward=b.get("roll_forward", True),
        pause_in=_names(b.get("pause_in")), warn=_duration(b.get("warn")),
        extension=None if ext is None else ExtensionDef(
            trigger=ext["trigger"], location=ext.loc, max_total=_duration(ext.get("max_total")),
            max_count=ext.get("max_count"), days_field=ext.get("days_field", "days"),
            reason_field=ext.get("reason_field", "reason"),
            after_due=ext.get("after_due", "refuse")),
        on_overdue=None if over is None else OverdueDef(
            location=over.loc, mark=over.get("mark", True), fire=over.get("fire")),
        kpi=_names(b.get("kpi")), locs=_locs(b),
    )


def _notification(name: str, b: MarkedMap) -> NotificationDef:
    on = b["on"]
    deadlines = on.get("deadline")
    message = b.get("message") or {}
    if isinstance(message, str):
        message = {"default": message}
    return NotificationDef(
        name=name,
        on=NotifyOn(location=on.loc, started=bool(on.get("started")),
                    triggers=_names(on.get("trigger")), enter=_names(on.get("enter")),
                    deadlines=("*",) if deadlines == "*" else _names(deadlines),
                    deadline_event=on.get("event")),
        location=b.loc, to=tuple(b.get("to", ())), channel=b.get("channel"),
        title=b.get("title", ""), when=b.get("when"),
        message=dict(message), locs=_locs(b),
    )
