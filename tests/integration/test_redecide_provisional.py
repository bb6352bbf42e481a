"""Due dates inside a provisional calendar year are re-decided too (issue 12).

A handling period of 60 days from 2026-11-10 ends in 2027, which the shipped calendars
have only provisionally: due 2027-01-11, marked provisional. When a version of the process
with the official 2027 data is loaded, fires on the old case count with it laid over
(`Registry.effective`) and `reconcile` recounts the open deadline (a `calendar` event).
`audit verify` must report a due date forged within 2027 (with its record rewritten to
match and the chain re-sealed), whichever calendar the event was counted with, and must
not report an honest history that went through the recount."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from flowengine import Actor, Engine
from flowengine.audit.replay import Replayer
from flowengine.audit.verify import verify_store
from flowengine.store.sql import SqlStore
from tests.support.calendars import YEAR_2027
from tests.support.tamper import forge

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
CLERK = Actor("王芳", "clerk")
DEPUTY = Actor("赵副局长", "deputy_leader")



def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def _with_2027_file(tmp_path: Path) -> Path:
    """standard_case as a new version that lists the (made-up) official 2027 file."""
    folder = tmp_path / "v2"
    (folder / "calendars").mkdir(parents=True)
    (folder / "calendars" / "cn-2027.yaml").write_text(YEAR_2027, encoding="utf-8")
    text = (ROOT / "processes" / "standard_case.yaml").read_text(encoding="utf-8")
    (folder / "standard_case.yaml").write_text(
        text.replace("timezone: Asia/Shanghai\n",
                     "timezone: Asia/Shanghai\ncalendars: [calendars/cn-2027.yaml]\n"),
        encoding="utf-8")
    return folder / "standard_case.yaml"


def _accepted(engine: Engine, who: str) -> str:
    case = engine.start("standard_case", {"petitioner": who, "subject": "噪音"}, actor=CLERK,
                        at=at("2026-11-10T09:00"))
    return engine.fire(case.id, "accept", actor=CLERK, at=at("2026-11-10T10:00")).id


def _problems(url: str) -> list[tuple[str, int, str]]:
    store = SqlStore(url, read_only=True)
    try:
        return [(p.case_id, p.seq, p.why) for p in verify_store(store).problems]
    finally:
        store.close()


def _moved(effects: tuple[dict[str, Any], ...], deadline: str, days: int) -> tuple[Any, ...]:
    """The effects with `deadline`'s due date `days` later (its provisional mark kept)."""
    out = []
    for e in effects:
        if e.get("deadline") == deadline and e.get("due_date"):
            later = (date.fromisoformat(e["due_date"]) + timedelta(days=days)).isoformat()
            e = {**e, "due_date": later, "due": e["due"].replace(e["due_date"], later)}
        out.append(e)
    assert out != list(effects)
    return tuple(out)


def _stored(url: str, case_id: str) -> list[Any]:
    store = SqlStore(url)
    try:
        return list(store.events(case_id))
    finally:
        store.close()


def test_a_due_date_forged_within_a_provisional_year_is_caught(url: str) -> None:
    """Counted provisionally (no official 2027 data anywhere): the handling deadline of
    the acceptance moved a week later within 2027, still marked provisional."""
    engine = Engine(url, processes=[ROOT / "processes"])
    case_id = _accepted(engine, "甲")
    engine.store.close()  # type: ignore[attr-defined]
    accepted = _stored(url, case_id)[1]
    handling = next(e for e in accepted.effects if e.get("deadline") == "handling")
    assert (handling["due_date"], handling["provisional"]) == ("2027-01-11", [2027])
    assert _problems(url) == []
    forge(url, case_id, 1, [{"effects": _moved(accepted.effects, "handling", 7)}])
    [(case, seq, why)] = _problems(url)
    assert (case, seq) == (case_id, 2)
    assert "on the calendar it was counted with" in why and "2027" in why and "effects" in why


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cases.db'}"
    return str(request.getfixturevalue("pg_url"))


def _honest(tmp_path: Path, url: str) -> tuple[str, str]:
    """Case A accepted on the provisional calendar, then the official 2027 data loaded
    (a new version), A recounted and extended; case B (pinned to the old version too)
    accepted after the load, so counted with the official data laid over."""
    engine = Engine(url, processes=[ROOT / "processes"])
    a = _accepted(engine, "甲")
    b = engine.start("standard_case", {"petitioner": "乙", "subject": "路灯"}, actor=CLERK,
                     at=at("2026-11-20T09:00")).id
    engine.load(_with_2027_file(tmp_path))
    assert [e.type for e in engine.reconcile(at("2026-12-10T09:00"))] == ["calendar"]
    engine.fire(a, "investigate", actor=CLERK, at=at("2026-12-11T09:00"))
    extended = engine.fire(a, "extend", {"reason": "需要现场监测", "days": 10}, actor=DEPUTY,
                           at=at("2026-12-15T09:00"))
    assert extended.deadlines["handling"].provisional == ()  # counted on the official data
    accepted_b = engine.fire(b, "accept", actor=CLERK, at=at("2026-12-16T09:00"))
    assert accepted_b.deadlines["handling"].provisional == ()
    assert accepted_b.digest == engine.case(a).digest  # both pinned to the first version
    engine.store.close()  # type: ignore[attr-defined]
    return a, b


def test_an_honest_history_through_the_recount_is_not_reported(tmp_path: Path,
                                                                url: str) -> None:
    a, b = _honest(tmp_path, url)
    assert _problems(url) == []
    store = SqlStore(url, read_only=True)
    replayer = Replayer(store)
    assert replayer.replay(a).ok and replayer.replay(b).ok
    store.close()


def test_a_due_date_forged_on_official_data_laid_over_is_caught(tmp_path: Path,
                                                                 url: str) -> None:
    """The extension after the recount and case B's acceptance were counted with the
    official 2027 data of the newer version: each moved a week within 2027 is found."""
    a, b = _honest(tmp_path, url)
    extend = _stored(url, a)[-1]
    forge(url, a, extend.seq - 1, [{"effects": _moved(extend.effects, "handling", 7)}])
    accept = next(e for e in _stored(url, b) if e.trigger == "accept")
    forge(url, b, accept.seq - 1, [{"effects": _moved(accept.effects, "handling", 7)}])
    found = sorted((case, seq) for case, seq, _ in _problems(url))
    assert found == sorted([(a, extend.seq), (b, accept.seq)])


def test_a_recount_forged_to_another_due_date_is_caught(tmp_path: Path, url: str) -> None:
    """The `calendar` event's new due date (2027-01-09 on the official data) moved a week
    later: re-deciding the recount with the newer version's official data finds it."""
    a, _ = _honest(tmp_path, url)
    recount = next(e for e in _stored(url, a) if e.type == "calendar")
    forge(url, a, recount.seq - 1, [{"effects": _moved(recount.effects, "handling", 7)}])
    [(case, seq, why)] = _problems(url)
    assert (case, seq) == (a, recount.seq) and "calendar recount" in why and "effects" in why
