"""`flowengine export CASE --format html`: the auditor's timeline of one case.

Written with the titles of the definition version the case is pinned to (states,
triggers, deadlines, notices, enum values from `value_titles`), so a reader who never saw
the YAML can follow it; the internal names stay beside the titles, because the event
store and the JSON export use them. The last section lists each event's `prev_hash` and
`hash`, so the printed page can be checked against `flowengine audit verify`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ...definition.model import ProcessDef
from ...engine.registry import Registry
from ...errors import CaseNotFound
from ...records.case import Case, Deadline
from ...records.events import Event
from ...store.base import Store
from ..export import Recorded
from ..replay import PinnedDefinitions
from ..timeline import describe_effect
from .page import esc, page, section, table

_ZH: dict[str, Any] = {"title": "案件审计时间线", "case": "案件", "process": "流程", "state": "当前状态",
       "data": "案件信息", "field": "字段", "value": "内容", "timeline": "办理经过",
       "head": ("序号", "时间", "操作人", "事项", "状态变化", "期限", "通知"),
       "deadlines": "期限", "dhead": ("期限", "状态", "到期日", "延期次数", "备注"),
       "notices": "通知与告知", "nhead": ("序号", "通知", "对象", "渠道", "内容"),
       "chain": "哈希链", "chead": ("序号", "前一哈希 prev_hash", "哈希 hash", "入库时间", "备注"),
       "backdated": "倒签", "provisional": "暂定（{years} 年日历）",
       "started": "立案开始", "what": {"started": "登记", "timer": "期限到期",
                                     "calendar": "按正式节假日重算"}}
_EN: dict[str, Any] = {"title": "Case audit timeline", "case": "Case", "process": "Process", "state": "State",
       "data": "Case data", "field": "field", "value": "value", "timeline": "Timeline",
       "head": ("#", "at", "actor", "what", "state change", "deadlines", "notices"),
       "deadlines": "Deadlines", "dhead": ("deadline", "status", "due", "extensions", "note"),
       "notices": "Notices", "nhead": ("#", "notice", "to", "channel", "text"),
       "chain": "Hash chain", "chead": ("#", "prev_hash", "hash", "recorded at", "note"),
       "backdated": "BACKDATED", "provisional": "provisional ({years} calendar)",
       "what": {"started": "started", "timer": "timer", "calendar": "recounted"}}


class _Names:
    """Titles from the pinned definition, falling back to the internal name."""

    def __init__(self, process: ProcessDef, lang: str) -> None:
        self.p, self.zh = process, lang == "zh"
        self.triggers = {t.trigger: t.title for t in process.transitions if t.title}

    def _pick(self, name: str | None, title: str | None) -> str:
        if name is None:
            return ""
        return f"{title} ({name})" if self.zh and title else name

    def state(self, name: str | None) -> str:
        s = self.p.states.get(name or "")
        return self._pick(name, s.title if s else None)

    def trigger(self, name: str | None) -> str:
        return self._pick(name, self.triggers.get(name or ""))

    def deadline(self, name: str) -> str:
        d = self.p.deadlines.get(name)
        return self._pick(name, d.title if d else None)

    def value(self, field: str, value: Any) -> str:
        f = self.p.fields.get(field)
        if f is not None and self.zh and isinstance(value, str) and value in f.value_titles:
            return f"{f.value_titles[value]} ({value})"
        return "" if value is None else str(value)

    def field(self, name: str) -> str:
        f = self.p.fields.get(name)
        return self._pick(name, f.title if f else None)


def export_html(store: Store, registry: Registry | None, case_id: str, events: Sequence[Event],
                recorded: Recorded, lang: str = "zh") -> str:
    """The page of a stored case, titled from the definition version it is pinned to."""
    case = store.load_case(case_id)
    if case is None:
        raise CaseNotFound(case_id)
    process = PinnedDefinitions(store, registry).get(case.digest, case_id)
    return case_html(case, process, events, recorded, lang)


def case_html(case: Case, process: ProcessDef, events: Sequence[Event],
              recorded: Recorded, lang: str = "zh") -> str:
    """The page: case data, timeline, deadlines, notices, hash chain."""
    w, names = _ZH if lang == "zh" else _EN, _Names(process, lang)
    title = f"{w['title']}: {case.id}"
    lead = (f"<h1>{esc(title)}</h1>\n<p class=\"lead\">{esc(w['process'])}: "
            f"{esc(names._pick(process.id, process.title))} v{esc(process.version)} · "
            f"{esc(w['state'])}: {esc(names.state(case.state))}</p>")
    data = table((w["field"], w["value"]), [(names.field(k), names.value(k, v))
                                            for k, v in sorted(case.data.items())], kind="data")
    timeline = table(w["head"], [_row(e, names, w) for e in events], kind="timeline")
    dls = table(w["dhead"], [_deadline(d, names, w) for d in
                             sorted(case.deadlines.values(), key=lambda d: d.name)],
                kind="deadlines")
    notices = table(w["nhead"], [(e.seq, *_notice(n, lang)) for e in events
                                 for n in e.notifications], kind="notices")
    chain = table(w["chead"], [_link(e, recorded, w) for e in events], kind="chain")
    body = section(w["case"], data, kind="case").replace("<h2>", lead + "\n<h2>", 1)
    return page(title, lang, [body, section(w["timeline"], timeline, kind="timeline"),
                              section(w["deadlines"], dls, notices, kind="deadlines"),
                              section(w["chain"], chain, kind="chain")])


def _row(e: Event, names: _Names, w: Mapping[str, Any]) -> tuple[Any, ...]:
    who = f"{e.actor.name} ({e.actor.role})" if e.actor.role else e.actor.name
    what = names.trigger(e.trigger) if e.type == "fired" else w["what"].get(e.type, e.type)
    move = ""
    if e.dest is not None:
        move = f"{names.state(e.source)} → {names.state(e.dest)}" if e.source else \
            f"→ {names.state(e.dest)}"
    effects = "; ".join(f"{names.deadline(str(x.get('deadline')))}: "
                        f"{describe_effect(x).split(': ', 1)[-1]}" for x in e.effects)
    kinds = ", ".join(str(n.get("title") or n.get("kind")) for n in e.notifications)
    return (e.seq, e.at.isoformat(), who, what, move, effects, kinds)


def _deadline(d: Deadline, names: _Names, w: Mapping[str, Any]) -> tuple[Any, ...]:
    due = d.due_date.isoformat() if d.due_date else (d.due.isoformat() if d.due else "")
    note = ""
    if d.provisional:
        note = w["provisional"].format(years=", ".join(map(str, d.provisional)))
    status = f"{d.status} (late)" if d.late else d.status
    return (names.deadline(d.name), status, due, d.extensions, note)


def _notice(n: Mapping[str, Any], lang: str) -> tuple[str, str, str, str]:
    messages = n.get("messages") or {}
    text = messages.get(lang) or next(iter(messages.values()), "")
    name = str(n.get("title") or n.get("kind"))
    return (name, ", ".join(map(str, n.get("to") or ())), str(n.get("channel") or ""), text)


def _link(e: Event, recorded: Recorded, w: Mapping[str, Any]) -> tuple[Any, ...]:
    mark = recorded.of(e)
    return (e.seq, e.prev_hash, e.hash, mark["recorded_at"] or "",
            w["backdated"] if mark["backdated"] else "")


__all__ = ["case_html", "export_html"]
