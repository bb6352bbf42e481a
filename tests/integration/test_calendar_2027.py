"""A missing year never stops a legal duty: deadlines reaching 2027 (not yet published by
the State Council) are counted on the provisional calendar and marked provisional; when the
year's official data is loaded, `reconcile` (and `tick`) recounts them, records one
`calendar` event with old and new due and sends one notice; a second run does nothing.
Past what the provisional rule computes (2100), a year is still refused."""

from __future__ import annotations

import json
import multiprocessing
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from flowengine import Actor, CalendarYearMissing, Engine, SimulatedClock, run_scenario
from flowengine.audit.replay import Replayer
from flowengine.cli import main
from tests.support.calendars import YEAR_2027

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
CLERK = Actor("王芳", "clerk")

SCENARIO = """\
process: five_step.yaml
start:
  at: 2026-12-24T10:00:00+08:00
  actor: {name: 市信访局, role: bureau}
  data: {receiving_leader: 李市长, matter_type: individual, responsible_unit: 城东区, subject: 拖欠工资}
steps:
  - fire: assign_owner
    data: {owner_leader: 陈主任, resolution_team: [甲, 乙]}
expect:
  state: owner_assigned
  # 7 working days after 12-24: 12-25, 28, 29, 30, 31, then 2027: 01-04 (元旦 01-01 a
  # holiday by law), 01-05 -- on the provisional calendar
  deadlines: {submit_opinion: {status: open, due: 2027-01-05}}
"""



def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def _scenario(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "processes" / "five_step.yaml", tmp_path / "five_step.yaml")
    scenario = tmp_path / "reaches_2027.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    return scenario


def test_a_period_into_2027_is_counted_provisionally(tmp_path: Path) -> None:
    result = run_scenario(str(_scenario(tmp_path)))
    assert result.ok, result.failures
    opinion = next(d for d in result.deadlines if d["name"] == "submit_opinion")
    assert opinion["provisional"] == [2027]


def test_the_cli_shows_the_provisional_due(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["simulate", str(_scenario(tmp_path))])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "PROVISIONAL" in out and "Traceback" not in out
    with pytest.raises(SystemExit):
        main(["simulate", str(_scenario(tmp_path)), "--json"])
    doc = json.loads(capsys.readouterr().out)
    found = json.dumps(doc, ensure_ascii=False)
    assert '"provisional": [2027]' in found


def test_past_the_provisional_range_a_year_is_still_refused(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path)
    scenario.write_text(SCENARIO.replace("2026-12-24T10", "2100-12-24T10"), encoding="utf-8")
    result = run_scenario(str(scenario))
    assert not result.ok
    assert "no calendar covers 2101" in result.failures[0]
    assert "calendars/cn-2101.yaml" in result.failures[0]
    assert result.events == []  # nothing half-started


def test_the_error_type_carries_the_year() -> None:
    err = CalendarYearMissing(2101)
    assert err.year == 2101 and err.exit_code == 2


# -- reconcile -------------------------------------------------------------------------


def _with_2027_file(tmp_path: Path) -> Path:
    """standard_case as a new version that lists the (made-up) official 2027 file."""
    folder = tmp_path / "v2"
    (folder / "calendars").mkdir(parents=True)  # beside the process files, not among them
    (folder / "calendars" / "cn-2027.yaml").write_text(YEAR_2027, encoding="utf-8")
    text = (ROOT / "processes" / "standard_case.yaml").read_text(encoding="utf-8")
    (folder / "standard_case.yaml").write_text(
        text.replace("timezone: Asia/Shanghai\n",
                     "timezone: Asia/Shanghai\ncalendars: [calendars/cn-2027.yaml]\n"), encoding="utf-8")
    return folder / "standard_case.yaml"


def _accepted_on_2026_11_10(engine: Engine) -> str:
    case = engine.start("standard_case", {"petitioner": "张三", "subject": "噪音"},
                        actor=CLERK, at=at("2026-11-10T09:00"))
    case = engine.fire(case.id, "accept", actor=CLERK, at=at("2026-11-10T10:00"))
    handling = case.deadlines["handling"]
    # 60 days from 2026-11-10: Saturday 2027-01-09, rolled to Monday 01-11 (provisional)
    assert (handling.due_date, handling.provisional) == (date(2027, 1, 11), (2027,))
    return case.id


@pytest.mark.parametrize("db", ["memory", "sqlite"])
def test_reconcile_recounts_once_with_the_official_year(tmp_path: Path, db: str) -> None:
    url = None if db == "memory" else f"sqlite:///{tmp_path / 'cases.db'}"
    engine = Engine(url, processes=[ROOT / "processes"], clock=SimulatedClock(at("2026-11-10T09:00")))
    case_id = _accepted_on_2026_11_10(engine)
    assert engine.reconcile(at("2026-12-10T09:00")) == []  # no official 2027 data yet

    engine.load(_with_2027_file(tmp_path))
    events = engine.reconcile(at("2026-12-10T09:00"))
    assert [e.type for e in events] == ["calendar"]
    (effect,) = events[0].effects
    assert (effect["op"], effect["old_due_date"], effect["due_date"]) == (
        "recomputed", "2027-01-11", "2027-01-09")
    assert effect["provisional"] == []
    (note,) = events[0].notifications
    assert note["kind"] == "recomputed" and note["to"] == ["owner", "petitioner"]
    assert "期限由2027年1月11日调整为2027年1月9日" in note["messages"]["zh"]

    handling = engine.case(case_id).deadlines["handling"]
    assert (handling.due_date, handling.provisional) == (date(2027, 1, 9), ())
    assert engine.reconcile(at("2026-12-11T09:00")) == []  # idempotent
    assert engine.tick(at("2026-12-12T09:00")) == []
    if url is not None:  # replay needs no calendar: the event carries the new date
        assert Replayer(engine.store, engine.registry).replay(case_id).ok


def test_tick_reconciles_first_and_a_case_with_an_official_due_is_untouched(tmp_path: Path) -> None:
    engine = Engine(processes=[ROOT / "processes"])
    provisional = _accepted_on_2026_11_10(engine)
    official = engine.start("standard_case", {"petitioner": "李四", "subject": "路灯"},
                            actor=CLERK, at=at("2026-08-03T09:00"))
    engine.fire(official.id, "accept", actor=CLERK, at=at("2026-08-03T10:00"))
    engine.load(_with_2027_file(tmp_path))
    events = engine.tick(at("2026-12-10T09:00"))
    recounted = [e for e in events if e.type == "calendar"]
    assert [e.case_id for e in recounted] == [provisional]
    assert engine.case(provisional).deadlines["handling"].due_date == date(2027, 1, 9)


def test_reconcile_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'cases.db'}"
    engine = Engine(db, processes=[ROOT / "processes"])
    case_id = _accepted_on_2026_11_10(engine)
    engine.store.close()  # type: ignore[attr-defined]
    folder = _with_2027_file(tmp_path).parent
    args = ["calendar", "reconcile", "--db", db, "--processes", str(folder),
            "--now", "2026-12-10T09:00", "--json"]
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["recounted"] == [{"case": case_id, "seq": 3, "deadlines": [{
        "deadline": "handling", "old_due": "2027-01-11", "due": "2027-01-09",
        "provisional": [], "why": "official holiday arrangement loaded for 2027"}]}]
    with pytest.raises(SystemExit):
        main(args)
    assert json.loads(capsys.readouterr().out)["recounted"] == []


def test_the_report_counts_provisional_due_dates_until_the_recount(tmp_path: Path) -> None:
    from flowengine.audit.report import report

    engine = Engine(processes=[ROOT / "processes"])
    _accepted_on_2026_11_10(engine)

    def provisional() -> int:
        doc = report(engine.store).as_dict()["by_process"]["standard_case"]
        return int(doc["deadlines"]["handling"]["provisional"])

    assert provisional() == 1
    engine.load(_with_2027_file(tmp_path))
    engine.reconcile(at("2026-12-10T09:00"))
    assert provisional() == 0


def _reconcile_worker(db: str, folder: str, out: Any) -> None:
    engine = Engine(db, processes=[ROOT / "processes", folder])
    out.put(len(engine.reconcile(at("2026-12-10T09:00"))))


def test_two_workers_reconciling_at_once_recount_each_case_once(tmp_path: Path) -> None:
    """Real concurrent processes on one SQLite file: each case gets exactly one `calendar`
    event; a case the other worker moved first is skipped by the sequence check."""
    db = f"sqlite:///{tmp_path / 'cases.db'}"
    engine = Engine(db, processes=[ROOT / "processes"])
    ids = []
    for i in range(30):
        case = engine.start("standard_case", {"petitioner": f"P{i}", "subject": "噪音"},
                            actor=CLERK, at=at("2026-11-10T09:00"))
        ids.append(engine.fire(case.id, "accept", actor=CLERK, at=at("2026-11-10T10:00")).id)
    engine.store.close()  # type: ignore[attr-defined]
    folder = _with_2027_file(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    workers = [ctx.Process(target=_reconcile_worker, args=(db, str(folder), out)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    assert out.get(timeout=5) + out.get(timeout=5) == 30
    check = Engine(db)
    for cid in ids:
        kinds = [e.type for e in check.history(cid)]
        assert kinds.count("calendar") == 1, (cid, kinds)
        assert check.case(cid).deadlines["handling"].due_date == date(2027, 1, 9)


class _StoreWithoutIndex:
    """A host's store that lacks the optional `provisional_cases`: the engine scans instead."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name == "provisional_cases":
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_reconcile_works_on_a_store_without_the_provisional_index(tmp_path: Path) -> None:
    from flowengine.store.memory import MemoryStore

    engine = Engine(store=_StoreWithoutIndex(MemoryStore()), processes=[ROOT / "processes"])  # type: ignore[arg-type]
    assert not hasattr(engine.store, "provisional_cases")
    case_id = _accepted_on_2026_11_10(engine)
    engine.load(_with_2027_file(tmp_path))
    assert [e.case_id for e in engine.reconcile(at("2026-12-10T09:00"))] == [case_id]
    assert engine.reconcile(at("2026-12-10T09:00")) == []
