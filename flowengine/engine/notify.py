"""Which notifications a step asks for, and their rendered messages.

A notification is recorded in the event that caused it (and, in a durable store, written to
the outbox in the same transaction), whether or not any delivery plugin is loaded. Declared
notifications (`notifications:` in the YAML) answer case start, triggers, states entered and
deadline events; a deadline event no declaration answers still gets a notification of its
kind (warning, overdue, expired, extension, paused, resumed) with a built-in message, so the
record never depends on the YAML remembering it.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from ..definition.model import NotificationDef
from .case import Actor, Case
from .compiler import CompiledProcess
from .data import to_json

OP_EVENT = {"warned": "warning", "overdue": "overdue", "expired": "expired",
            "extended": "extension", "paused": "paused", "resumed": "resumed"}

DEFAULT_TO = {"warning": ("owner",), "overdue": ("supervisor", "owner"),
              "expired": ("supervisor", "owner"), "extension": ("petitioner",),
              "paused": ("owner",), "resumed": ("owner",)}

DEFAULT_MESSAGES = {
    "warning": {"zh": "提醒：案件{case}的{deadline}期限将于{due}届满。",
                "en": "Reminder: case {case} is due for {deadline} on {due}."},
    "overdue": {"zh": "督办：案件{case}的{deadline}期限已于{due}届满，尚未办结。",
                "en": "Overdue: case {case} passed its {deadline} deadline ({due})."},
    "expired": {"zh": "案件{case}的{deadline}期限已届满，已自动处理。",
                "en": "Case {case}: the {deadline} period ran out ({due}); its timeout action ran."},
    "extension": {"zh": "案件{case}的{deadline}期限延长{days}日，至{due}。理由：{reason}",
                  "en": "Case {case}: {deadline} extended by {days} days to {due}. Reason: {reason}"},
    "paused": {"zh": "案件{case}的{deadline}期限暂停计算。",
               "en": "Case {case}: the {deadline} clock is paused."},
    "resumed": {"zh": "案件{case}的{deadline}期限恢复计算，至{due}。",
                "en": "Case {case}: the {deadline} clock resumed; now due {due}."},
}


class _Blank(dict):  # type: ignore[type-arg]
    """format_map mapping that leaves unknown placeholders empty instead of failing."""

    def __missing__(self, key: str) -> str:
        return ""


class _Values(dict):  # type: ignore[type-arg]
    """A step's template values: the fixed names, then the case's data, whose JSON forms are
    computed only for the names a template asks for (most of a case's fields are in none)."""

    data: Mapping[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        if key in self:
            return self[key]
        if key in self.data:
            return to_json(self.data[key])
        return default

    def with_(self, extra: Mapping[str, Any]) -> _Values:
        out = _Values(self)
        out.data = self.data
        out.update(extra)
        return out


@lru_cache(maxsize=4096)
def _parts(template: str) -> tuple[tuple[str, str | None], ...]:
    return tuple((literal, name)
                 for literal, name, _spec, _conv in string.Formatter().parse(template))


def render(template: str, values: Mapping[str, Any]) -> str:
    """Fill `{name}` placeholders (validated at load: plain names only)."""
    out = []
    for literal, name in _parts(template):
        out.append(literal)
        if name is not None:
            value = values.get(name, "")
            out.append("" if value is None else str(value))
    return "".join(out)


def notifications_for(cp: CompiledProcess, case: Case, *, at: datetime, actor: Actor,
                      started: bool = False, trigger: str | None = None,
                      entered: str | None = None,
                      effects: Iterable[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """The notifications one step asks for; `case` is the case after the step."""
    if not effects and not cp.process.notifications:
        return []  # a process without notifications, a step without deadline changes
    matched = [n for n in cp.process.notifications.values() if n.on.deadline_event is None and (
        (n.on.started and started) or (trigger is not None and trigger in n.on.triggers)
        or (entered is not None and entered in n.on.enter))]
    deadline_effects = [e for e in effects if e["op"] in OP_EVENT]
    if not matched and not deadline_effects:
        return []  # the common case: no template values to compute
    base = _values(cp, case, at, actor, trigger)
    out = [_record(n.name, n, n.to, n.channel, n.message, base) for n in matched]
    for effect in deadline_effects:
        kind = OP_EVENT[effect["op"]]
        values = base.with_(_deadline_values(cp, case, effect))
        declared = [n for n in cp.process.notifications.values() if _answers(n, kind, effect)]
        for n in declared:
            out.append(_record(kind, n, n.to, n.channel, n.message, values, effect))
        if not declared:
            out.append(_record(kind, None, DEFAULT_TO[kind], None, DEFAULT_MESSAGES[kind],
                               values, effect))
    return out


def _answers(n: NotificationDef, kind: str, effect: Mapping[str, Any]) -> bool:
    on = n.on
    return on.deadline_event == kind and ("*" in on.deadlines or effect["deadline"] in on.deadlines)


def _values(cp: CompiledProcess, case: Case, at: datetime, actor: Actor,
            trigger: str | None) -> _Values:
    values = _Values(case=case.id, date=at.astimezone(cp.tz).date().isoformat(),
                     state=case.state, trigger=trigger or "", actor=actor.name)
    values.data = case.data
    return values


def _deadline_values(cp: CompiledProcess, case: Case, effect: Mapping[str, Any]) -> dict[str, Any]:
    name = effect["deadline"]
    spec = cp.process.deadlines[name]
    running = case.deadlines.get(name)
    due = running.due_date.isoformat() if running and running.due_date else ""
    return {"deadline": spec.title or name, "deadline_name": name, "due": due,
            "reason": effect.get("reason") or "", "days": effect.get("days", "")}


def _record(kind: str, spec: NotificationDef | None, to: Iterable[str], channel: str | None,
            messages: Mapping[str, str], values: Mapping[str, Any],
            effect: Mapping[str, Any] | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": kind, "name": spec.name if spec else None, "to": list(to), "channel": channel,
        "messages": {lang: render(text, values) for lang, text in messages.items()},
    }
    if spec is not None and spec.title:
        record["title"] = spec.title
    if effect is not None:
        record["deadline"] = effect["deadline"]
        record["due"] = values.get("due")
        if effect.get("reason"):
            record["reason"] = effect["reason"]
    return record
