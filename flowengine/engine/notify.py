"""Which notifications a step asks for, and their rendered messages.

A notification is recorded in the event that caused it (and, in a durable store, written to
the outbox in the same transaction), whether or not any delivery plugin is loaded. Declared
notifications (`notifications:` in the YAML) answer case start, triggers, states entered and
deadline events; a deadline event no declaration answers still gets a notification of its
kind (warning, overdue, expired, extension, paused, resumed) with a built-in message, so the
record never depends on the YAML remembering it.

Messages are rendered per language: a date is written "2026年10月8日" in a `zh` text and
ISO in any other; a due date computed over a provisional calendar says so in words; and
values such as `{extension}` ("10日" / "10个工作日") and `{reason_sentence}` (empty when no
reason was given) are worded for each language.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from ..definition.model import DeadlineDef, NotificationDef, ProcessDef
from ..records.case import Actor, Case
from ..records.lifecycle import NOTIFICATION_OF
from .compiler import CompiledProcess
from .data import to_json
from .deadlines import Step
from .notify_when import wanted

DEFAULT_TO = {"warning": ("owner",), "overdue": ("supervisor", "owner"),
              "expired": ("supervisor", "owner"), "extension": ("petitioner",),
              "paused": ("owner",), "resumed": ("owner",), "recomputed": ("owner",)}

# The built-in texts are part of every stored history whose definition did not declare its
# own: `audit verify` re-decides those events with this code, so a changed text would make
# every such history fail. They are frozen; a new wording belongs in the process YAML
# (`notifications:`), as the shipped procedures do (tests/integration/test_stored_histories.py
# keeps a database written before any change to prove it).
DEFAULT_MESSAGES = {
    "warning": {"zh": "提醒：案件{case}的{deadline}期限将于{due}届满。",
                "en": "Reminder: case {case} is due for {deadline} on {due}."},
    "overdue": {"zh": "督办：案件{case}的{deadline}期限已于{due}届满，尚未办结。",
                "en": "Overdue: case {case} passed its {deadline} deadline ({due})."},
    "expired": {"zh": "案件{case}的{deadline}期限已届满，已自动处理。",
                "en": "Case {case}: the {deadline} period ran out ({due}); its timeout action ran."},
    "extension": {"zh": "案件{case}的{deadline}期限延长{extension}，至{due}。{reason_sentence}",
                  "en": "Case {case}: {deadline} extended by {extension} to {due}. {reason_sentence}"},
    "paused": {"zh": "案件{case}的{deadline}期限暂停计算。",
               "en": "Case {case}: the {deadline} clock is paused."},
    "resumed": {"zh": "案件{case}的{deadline}期限恢复计算，至{due}。",
                "en": "Case {case}: the {deadline} clock resumed; now due {due}."},
    "recomputed": {"zh": "案件{case}的{deadline}期限按国家正式公布的节假日安排重新计算："
                         "由{old_due}调整为{due}。",
                   "en": "Case {case}: {deadline} recomputed with the official holiday "
                         "arrangement: due {due} (was {old_due})."},
}


class Localized(dict[str, str]):
    """A template value worded per language; a language it lacks gets its English."""

    def for_lang(self, lang: str) -> str:
        return self.get(lang) or self.get("en") or next(iter(self.values()), "")


def format_date(d: date, lang: str) -> str:
    """'2026年10月8日' for Chinese letters, ISO otherwise."""
    return f"{d.year}年{d.month}月{d.day}日" if lang == "zh" else d.isoformat()


def due_value(d: date | None, provisional: Iterable[int] = ()) -> Localized | str:
    """A due date as letters show it, with the provisional caveat when it has one."""
    if d is None:
        return ""
    years = "、".join(map(str, provisional))
    if not years:
        return Localized(zh=format_date(d, "zh"), en=d.isoformat())
    return Localized(zh=f"{format_date(d, 'zh')}（暂定，以国务院公布的{years}年节假日安排为准）",
                     en=f"{d.isoformat()} (provisional until the State Council's {years} "
                        f"holiday arrangement is published)")


_UNITS = {"days": ("日", "day", "days"), "working_days": ("个工作日", "working day", "working days"),
          "hours": ("小时", "hour", "hours"), "minutes": ("分钟", "minute", "minutes")}


def extension_value(amount: int, unit: str, rolled: bool) -> Localized:
    """'10日' / '10个工作日', and whether the end then rolled past a rest day."""
    zh, one, many = _UNITS.get(unit, _UNITS["days"])
    return Localized(
        zh=f"{amount}{zh}" + ("（期满日逢休息日，顺延至下一个工作日）" if rolled else ""),
        en=f"{amount} {one if amount == 1 else many}"
           + (" (then moved to the next working day)" if rolled else ""))


def reason_value(reason: str) -> Localized:
    """'理由：…。' / 'Reason: ….', or nothing at all when no reason was given."""
    if not reason:
        return Localized(zh="", en="")
    return Localized(zh=f"理由：{reason}。", en=f"Reason: {reason}.")


class _Values:
    """A step's template values, each computed when a message first asks for it and kept
    for the next (a notice has a message per language; most of these values are in no
    template). Looked up in order: the deadline values of `effect` (a deadline event's
    notice), the step's fixed names, the case's data (in JSON form; a date as it is, for
    `render` to write per language; a field's value with a title as `Localized`)."""

    __slots__ = ("table", "cp", "case", "at", "actor", "trigger", "effect", "spec", "known")

    def __init__(self, table: Notices, cp: CompiledProcess, case: Case, at: datetime,
                 actor: Actor, trigger: str | None,
                 effect: Mapping[str, Any] | None = None) -> None:
        self.table, self.cp, self.case, self.at, self.actor = table, cp, case, at, actor
        self.trigger, self.effect = trigger, effect
        self.known: dict[str, Any] = {}
        self.spec: DeadlineDef | None = None
        if effect is not None:
            self.spec = cp.process.deadlines[effect["deadline"]]  # an unknown one: KeyError
            if effect["op"] in ("extended", "recomputed"):  # rare: everything at once, as
                self.known.update(_deadline_values(cp, case, effect))  # their checks raise

    def get(self, key: str, default: Any = None) -> Any:
        value = self.known.get(key, _ABSENT)
        if value is _ABSENT:
            value = self._find(key)
            if value is _ABSENT:
                return default
            self.known[key] = value
        return value

    def _find(self, key: str) -> Any:
        effect = self.effect
        if effect is not None and key in _DEADLINE_NAMES:
            return self._deadline(key, effect)
        if key in _FIXED_NAMES:
            if key == "case":
                return self.case.id
            if key == "date":
                return self.at.astimezone(self.cp.tz).date()
            if key == "state":
                return self.case.state
            if key == "trigger":
                return self.trigger or ""
            return self.actor.name
        data = self.case.data
        if key not in data:
            return _ABSENT
        value = data[key]
        if type(value) is str:  # most values: the text, or the title of an enum's value
            titles = self.table.titles.get(key)
            return (Localized(zh=titles[value], en=value)  # 予以支持, not supported
                    if titles is not None and value in titles else value)
        return self._other(key, value)

    def _other(self, key: str, value: Any) -> Any:
        """A data value other than plain text, as a template shows it."""
        if isinstance(value, date) and not isinstance(value, datetime):
            return value  # written per language by `render`
        titles = self.table.titles.get(key)
        if titles is not None and isinstance(value, str) and value in titles:  # a str subclass
            return Localized(zh=titles[value], en=value)
        return to_json(value)

    def _deadline(self, key: str, effect: Mapping[str, Any]) -> Any:
        name = effect["deadline"]
        running = self.case.deadlines.get(name)
        if key == "due" and running is not None:  # the same few dates across a tick
            return self.table.due(running.due_date, running.provisional)
        return _deadline_value(key, name, self.spec, running, effect)


_ABSENT: Any = object()
_FIXED_NAMES = frozenset({"case", "date", "state", "trigger", "actor"})
_DEADLINE_NAMES = frozenset({"deadline", "deadline_name", "due", "due_iso", "provisional_years",
                             "reason", "days", "reason_sentence"})


class _Filler:
    """The messages of one notice, parsed once per definition version: per language a
    printf-style text with a `%s` per placeholder (`render`'s text, by one `%`: faster than
    `str.format`, which parses its text again at every call) and which value goes where.
    A value two languages share is looked up once."""

    __slots__ = ("messages", "names", "langs")

    def __init__(self, messages: Mapping[str, str]) -> None:
        self.messages = messages  # held: the id it is kept under stays its own
        names: dict[str, int] = {}
        parsed = []
        for lang, text in messages.items():
            pieces, order = [], []
            for literal, name in _parts(text):
                pieces.append(literal.replace("%", "%%"))
                if name is not None:
                    pieces.append("%s")
                    order.append(names.setdefault(name, len(names)))
            parsed.append((lang, "".join(pieces), order))
        self.names = tuple(names)
        every = list(range(len(names)))  # order None: every value, in order, each once
        self.langs: tuple[tuple[str, str, tuple[int, ...] | None], ...] = tuple(
            (lang, form, None if order == every else tuple(order))
            for lang, form, order in parsed)

    def fill(self, values: _Values) -> dict[str, str]:
        """`render` of each language's message, as `{lang: text}` (loops, not
        comprehensions: each of those is a call of its own, and a tick fills thousands)."""
        found = list(map(values.get, self.names))  # a name nothing gives: None, written ""
        texts = {}
        plain = True
        for v in found:
            if type(v) is not str:  # a value worded per language (a date, a title, None)
                plain = False
                break
        for lang, form, order in self.langs:
            args = found if order is None else [found[i] for i in order]
            if not plain:
                args = [v if type(v) is str else _text(v, lang) for v in args]
            texts[lang] = (form % tuple(args)).strip()
        return texts


@lru_cache(maxsize=4096)
def _parts(template: str) -> tuple[tuple[str, str | None], ...]:
    return tuple((literal, name)
                 for literal, name, _spec, _conv in string.Formatter().parse(template))


def render(template: str, values: Mapping[str, Any], lang: str = "en") -> str:
    """Fill `{name}` placeholders (validated at load: plain names only) for language `lang`."""
    out = []
    for literal, name in _parts(template):
        out.append(literal)
        if name is not None:
            out.append(_text(values.get(name, ""), lang))
    return "".join(out).strip()


def _text(value: Any, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, Localized):
        return value.for_lang(lang)
    if isinstance(value, date) and not isinstance(value, datetime):
        return format_date(value, lang)
    return str(value)


def notifications_for(cp: CompiledProcess, case: Case, step: Step,
                      effects: Iterable[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """The notifications one step asks for; `case` is the case after the step, `step` says
    when, by whom, by which trigger and into which state (`entered`)."""
    if not effects and not cp.process.notifications:
        return []  # a process without notifications, a step without deadline changes
    at, actor, trigger = step.at, step.actor, step.trigger
    table = cp.notices or _table(cp)
    matched = table.matched(step.started, trigger, step.entered)
    out = []
    if matched:
        values = _Values(table, cp, case, at, actor, trigger)  # shared by the notices
        for n in matched:
            if not n.when or n.wanted(cp, case, at, actor):
                out.append(n.record(values))
    for effect in effects:
        kind = NOTIFICATION_OF.get(effect["op"])
        if kind is None:
            continue
        values = _Values(table, cp, case, at, actor, trigger, effect)
        for n in table.declared(kind, effect["deadline"]):
            if not n.when or n.wanted(cp, case, at, actor):
                out.append(n.record(values, effect))
    return out


class _Notice:
    """A notification one kind of step records, prepared once per definition version: what
    every case's record of it shares (kind, name, recipients, channel, title) and its parsed
    messages; `record` adds a case's texts and, for a deadline event, the deadline's."""

    __slots__ = ("kind", "spec", "name", "to", "channel", "title", "when", "filler")

    def __init__(self, kind: str, spec: NotificationDef | None, to: Iterable[str],
                 channel: str | None, filler: _Filler) -> None:
        self.kind, self.spec, self.channel, self.filler = kind, spec, channel, filler
        self.to = tuple(to)
        self.name = spec.name if spec is not None else None
        self.title = spec.title if spec is not None else None
        self.when = spec.when if spec is not None else None

    def wanted(self, cp: CompiledProcess, case: Case, at: datetime, actor: Actor) -> bool:
        """Whether the case after the step asks for this notice (its `when`, if any)."""
        return self.spec is None or wanted(cp, self.spec, case, at, actor)

    def record(self, values: _Values, effect: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The notification as the event records it (without its id: the seal numbers it)."""
        record: dict[str, Any] = {
            "kind": self.kind, "name": self.name, "to": list(self.to), "channel": self.channel,
            "messages": self.filler.fill(values),
        }
        if self.title:
            record["title"] = self.title
        if effect is not None:
            record["deadline"] = effect["deadline"]
            running = values.case.deadlines.get(effect["deadline"])
            due = running.due_date if running else None
            record["due"] = due.isoformat() if due else ""  # `due_iso`
            if running and running.provisional:  # `provisional_years`
                record["provisional"] = list(running.provisional)
            if effect.get("reason"):
                record["reason"] = effect["reason"]
        return record


class Notices:
    """Which notifications of one definition version answer a kind of step, prepared: the
    same for every case (only the messages' values are the case's own), so a tick that
    runs out thousands of cases in one state asks the definition once, not per case."""

    __slots__ = ("process", "titles", "_steps", "_deadlines", "_fillers", "_dues")

    def __init__(self, process: ProcessDef) -> None:
        self.process = process
        # the fields whose values have titles (a notice writes the title in Chinese)
        self.titles = {name: f.value_titles for name, f in process.fields.items()
                       if f.value_titles}
        self._steps: dict[tuple[bool, str | None, str | None], tuple[_Notice, ...]] = {}
        self._deadlines: dict[tuple[str, str], tuple[_Notice, ...]] = {}
        self._fillers: dict[int, _Filler] = {}  # by id(messages): a declaration's, a default's
        self._dues: dict[tuple[date | None, tuple[int, ...]], Localized | str] = {}

    def matched(self, started: bool, trigger: str | None,
                entered: str | None) -> tuple[_Notice, ...]:
        """The declarations a start, a trigger or a state entered answers (in declaration
        order; a `when` still to be evaluated on the case)."""
        key = (started, trigger, entered)
        found = self._steps.get(key)
        if found is None:
            found = self._steps[key] = tuple(
                _Notice(n.name, n, n.to, n.channel, self.filler(n.message))
                for n in self.process.notifications.values() if n.on.deadline_event is None
                and ((n.on.started and started) or (trigger is not None and trigger in n.on.triggers)
                     or (entered is not None and entered in n.on.enter)))
        return found

    def declared(self, kind: str, deadline: str) -> tuple[_Notice, ...]:
        """The notices of deadline event `kind` of `deadline`: the declarations answering it
        (a `when` still to be evaluated), or else the built-in one of its kind (none for
        `started`)."""
        key = (kind, deadline)
        found = self._deadlines.get(key)
        if found is None:
            found = tuple(_Notice(kind, n, n.to, n.channel, self.filler(n.message))
                          for n in self.process.notifications.values()
                          if _answers(n, kind, {"deadline": deadline}))
            if not found and kind in DEFAULT_MESSAGES:
                found = (_Notice(kind, None, DEFAULT_TO[kind], None,
                                 self.filler(DEFAULT_MESSAGES[kind])),)
            self._deadlines[key] = found
        return found

    def due(self, day: date | None, provisional: Iterable[int]) -> Localized | str:
        """`due_value` of a due date, worded once per date (the cases a tick runs out
        mostly share a few): read-only, as every template value."""
        key = (day, tuple(provisional))
        found = self._dues.get(key)
        if found is None:
            if len(self._dues) >= 1024:  # dates over a long life: keep it bounded
                self._dues.clear()
            found = self._dues[key] = due_value(day, list(key[1]))
        return found

    def filler(self, messages: Mapping[str, str]) -> _Filler:
        """`messages` parsed (a declaration's messages are the process's, which this table
        holds, and the built-in ones live as long as the module: an id is never reused
        while its entry lives)."""
        found = self._fillers.get(id(messages))
        if found is None or found.messages is not messages:
            found = self._fillers[id(messages)] = _Filler(messages)
        return found


def _table(cp: CompiledProcess) -> Notices:
    """The table of `cp`, made on its first use and kept on it (like its planner)."""
    found = cp.notices
    if found is None:
        found = cp.notices = Notices(cp.process)
    return found


def _answers(n: NotificationDef, kind: str, effect: Mapping[str, Any]) -> bool:
    on = n.on
    return on.deadline_event == kind and ("*" in on.deadlines or effect["deadline"] in on.deadlines)


def _deadline_value(key: str, name: str, spec: DeadlineDef | None, running: Any,
                    effect: Mapping[str, Any]) -> Any:
    """Template value `key` (one of `_DEADLINE_NAMES`) of deadline `name`'s event `effect`,
    the deadline running as `running` (None: no longer)."""
    if key == "deadline":
        return spec.title or name if spec is not None else name
    if key == "deadline_name":
        return name
    if key == "due":
        return (due_value(running.due_date, list(running.provisional)) if running
                else due_value(None, []))
    if key == "due_iso":
        due = running.due_date if running else None
        return due.isoformat() if due else ""
    if key == "provisional_years":
        return list(running.provisional) if running else []
    if key == "reason":
        return effect.get("reason") or ""
    if key == "days":
        return effect.get("days", "")
    return reason_value(effect.get("reason") or "")  # reason_sentence


def _deadline_values(cp: CompiledProcess, case: Case, effect: Mapping[str, Any]) -> dict[str, Any]:
    """Every value of a deadline event's notice at once (an extension and a recount: their
    checks raise here, before any message is filled)."""
    name = effect["deadline"]
    spec = cp.process.deadlines[name]
    running = case.deadlines.get(name)
    values = {key: _deadline_value(key, name, spec, running, effect) for key in _DEADLINE_NAMES}
    due = running.due_date if running else None
    if effect["op"] == "extended":
        values["extension"] = extension_value(int(effect["days"]), effect.get("unit", "days"),
                                              _rolled(effect, due))
    if effect["op"] == "recomputed":
        values["old_due"] = due_value(_as_date(effect.get("old_due_date")))
        values["why"] = effect.get("why", "")
    return values


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _rolled(effect: Mapping[str, Any], due: date | None) -> bool:
    """Whether an extension of N days moved the due date by more than N (it ended on a rest
    day and rolled); working days never roll."""
    start = _as_date(effect.get("from_due"))
    if effect.get("unit", "days") != "days" or start is None or due is None:
        return False
    return (due - start).days > int(effect["days"])
