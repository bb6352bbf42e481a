"""How deadline notices word dates, units, reasons and provisional dates (per language)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from flowengine import Actor, Engine, TriggerRejected
from flowengine.engine.notify import (
    Localized,
    _Filler,
    due_value,
    extension_value,
    format_date,
    reason_value,
    render,
)

TZ = ZoneInfo("Asia/Shanghai")
COMMITTEE = Actor("医调委", "committee")

# A working-day deadline extended by agreement, with no reason field, and a process
# notification that does not declare the extension notice (so the built-in text is used).
PROCESS = """\
id: wd_extension
roles: [committee]
fields:
  agreed_days: {type: integer, min: 1, max: 30}
start:
  roles: [committee]
states:
  mediating: {initial: true, title: 调解中}
  done: {final: true, title: 结束}
transitions:
  - {trigger: extend, source: mediating, roles: [committee], accepts: [agreed_days]}
  - {trigger: finish, source: mediating, dest: done, roles: [committee]}
deadlines:
  mediation:
    title: 30个工作日内完成调解
    start: {started: true}
    stop: {enter: done}
    length: 30 working days
    extension: {trigger: extend, days_field: agreed_days, reason_field: null}
"""


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    (tmp_path / "wd.yaml").write_text(PROCESS, encoding="utf-8")
    return Engine(processes=[tmp_path / "wd.yaml"])


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def test_a_working_day_extension_says_working_days_and_no_empty_reason(engine: Engine) -> None:
    case = engine.start("wd_extension", {}, actor=COMMITTEE, at=at("2026-03-02T09:00"))
    assert case.deadlines["mediation"].due_date == date(2026, 4, 14)
    case = engine.fire(case.id, "extend", {"agreed_days": 10}, actor=COMMITTEE,
                       at=at("2026-04-01T09:00"))
    # 10 working days from Tuesday 04-14: 04-15 … 04-28 (no holiday in between)
    assert case.deadlines["mediation"].due_date == date(2026, 4, 28)
    (note,) = engine.history(case.id)[-1].notifications
    assert note["messages"]["zh"] == ("案件" + case.id + "的30个工作日内完成调解期限延长10个工作日，"
                                      "至2026年4月28日。")
    assert note["messages"]["en"].endswith("extended by 10 working days to 2026-04-28.")
    assert "理由" not in note["messages"]["zh"] and "Reason" not in note["messages"]["en"]


def test_an_extension_after_the_due_date_is_refused_and_changes_nothing(engine: Engine) -> None:
    case = engine.start("wd_extension", {}, actor=COMMITTEE, at=at("2026-03-02T09:00"))
    with pytest.raises(TriggerRejected, match="already ended on 2026-04-14"):
        engine.fire(case.id, "extend", {"agreed_days": 5}, actor=COMMITTEE, at=at("2026-04-15T00:00"))
    after = engine.case(case.id).deadlines["mediation"]
    assert (after.due_date, after.extensions) == (date(2026, 4, 14), 0)


def test_after_due_allow_lets_an_ended_period_be_extended_and_it_stays_late(tmp_path: Path) -> None:
    (tmp_path / "wd.yaml").write_text(
        PROCESS.replace("reason_field: null}", "reason_field: null, after_due: allow}"), encoding="utf-8")
    engine = Engine(processes=[tmp_path / "wd.yaml"])
    case = engine.start("wd_extension", {}, actor=COMMITTEE, at=at("2026-03-02T09:00"))
    engine.tick(at("2026-04-15T09:00"))
    assert engine.case(case.id).deadlines["mediation"].status == "overdue"
    case = engine.fire(case.id, "extend", {"agreed_days": 5}, actor=COMMITTEE, at=at("2026-04-15T10:00"))
    d = case.deadlines["mediation"]
    assert (d.status, d.due_date) == ("open", date(2026, 4, 21))
    case = engine.fire(case.id, "finish", actor=COMMITTEE, at=at("2026-04-16T10:00"))
    assert case.deadlines["mediation"].late


@pytest.mark.parametrize("d,zh", [(date(2026, 10, 8), "2026年10月8日"), (date(2027, 1, 11), "2027年1月11日")])
def test_dates_are_written_in_chinese_in_zh_and_iso_otherwise(d: date, zh: str) -> None:
    assert format_date(d, "zh") == zh
    assert format_date(d, "en") == d.isoformat()
    assert render("至{due}", {"due": d}, "zh") == f"至{zh}"
    assert render("to {due}", {"due": d}, "en") == f"to {d.isoformat()}"


def test_a_provisional_due_says_so_in_both_languages() -> None:
    value = due_value(date(2027, 1, 11), [2027])
    assert render("{due}", {"due": value}, "zh") == (
        "2027年1月11日（暂定，以国务院公布的2027年节假日安排为准）")
    assert "provisional" in render("{due}", {"due": value}, "en")
    assert render("{due}", {"due": due_value(date(2026, 10, 8))}, "zh") == "2026年10月8日"


def test_extension_and_reason_values() -> None:
    assert extension_value(10, "days", rolled=False).for_lang("zh") == "10日"
    assert extension_value(1, "working_days", rolled=False).for_lang("en") == "1 working day"
    assert "顺延" in extension_value(10, "days", rolled=True).for_lang("zh")
    assert reason_value("").for_lang("zh") == ""
    assert reason_value("情况复杂").for_lang("zh") == "理由：情况复杂。"


@pytest.mark.parametrize("messages", [
    {"zh": "案件{case}：{{原文}}至{due}。{reason_sentence}",
     "en": "Case {case} {{x}} by {due}. {reason_sentence}"},
    {"en": "{decision} / {decision} on {day} {missing}", "zh": "{day}{decision}"},
    {"en": "  {case}  ", "fr": "{due}"},
    {"zh": "{case}：100%办结，{day}", "en": "{day}: 100% ({case}) %s %(case)s"},
    {"en": "no value at all, 5%"},
])
def test_a_notice_filled_once_reads_as_rendered_per_language(messages: dict[str, str]) -> None:
    """A notice's messages are parsed once per definition version and filled per case with
    each value looked up once: the text is `render`'s, letter for letter (escaped braces,
    a name twice, a name nothing gives, a language without its own wording, padding)."""
    values: dict[str, object] = {
        "case": "C-1", "due": due_value(date(2026, 10, 8), [2027]),
        "reason_sentence": reason_value(""), "decision": Localized(zh="予以支持", en="granted"),
        "day": date(2026, 5, 4)}

    class Found:
        def get(self, key: str, default: object = None) -> object:
            return values.get(key, default)

    filled = _Filler(messages).fill(Found())  # type: ignore[arg-type]
    assert filled == {lang: render(text, values, lang) for lang, text in messages.items()}
