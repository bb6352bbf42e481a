"""交办件办结率 and closure by origin (`source`, `channel`), and the medical_dispute
`channel` field counted by `--by channel`, over hand-walked complaints whose figures are
worked out in the comments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowengine import Actor, Engine, SimulatedClock
from flowengine.audit.report import report, report_grids
from flowengine.audit.report.kpis import origin_fields
from flowengine.definition.loader import load_process
from tests.support.audit import PROCESSES, at

RECEPTION = Actor("王芳", "reception")


def _complaint(engine: Engine, name: str, channel: str | None, step: str | None) -> str:
    data: dict[str, Any] = {"complainant": name, "relation": "patient", "patient": name,
                            "department_kind": "outpatient"}
    if channel is not None:
        data["channel"] = channel
    case_id = engine.start("medical_dispute", data, actor=RECEPTION).id
    if step == "on_spot":  # closed at once
        engine.fire(case_id, "resolve_on_spot", {"on_spot_resolution": "当场解释"},
                    actor=RECEPTION)
    elif step == "verify":  # accepted, still open
        engine.fire(case_id, "verify_identity", actor=RECEPTION)
    return case_id


@pytest.fixture(scope="module")
def engine() -> Engine:
    """assigned: A closed, B open, C never accepted; letter: D closed; unset: E closed.
    交办件办结率 = 1 closed / 2 accepted assigned = 50.00 %; C is not in the denominator."""
    engine = Engine(processes=[PROCESSES], clock=SimulatedClock(at("2026-03-02T09:00:00")))
    for name, channel, step in (("A", "assigned", "on_spot"), ("B", "assigned", "verify"),
                                ("C", "assigned", None), ("D", "letter", "on_spot"),
                                ("E", None, "on_spot")):
        _complaint(engine, name, channel, step)
    return engine


def test_channel_is_an_origin_field_accepted_at_start() -> None:
    process = load_process(PROCESSES / "medical_dispute.yaml")
    assert "channel" in process.start.accepts
    assert origin_fields(process) == ("channel",)
    assert process.fields["channel"].value_titles["assigned"] == "上级交办"


def test_assigned_closure_rate_is_over_accepted_assigned_cases(engine: Engine) -> None:
    fig = report(engine.store, engine.registry).as_dict()["by_process"]["medical_dispute"]
    r = fig["rates"]["assigned_closure_rate"]
    assert (r["numerator"], r["denominator"], r["percent"]) == (1, 2, 50.0)
    assert r["basis"] == "受理的上级交办件"
    assert r["basis_en"] == "accepted cases assigned by a higher authority"
    by = fig["closure_by_origin"]["channel"]
    assert list(by) == ["letter", "assigned", "(unset)"]  # declared order, unset last
    assert [(by[k]["cases"], by[k]["denominator"], by[k]["numerator"]) for k in by] == [
        (1, 1, 1), (3, 2, 1), (1, 1, 1)]


def test_the_origin_table_in_chinese_and_english(engine: Engine) -> None:
    zh = {g.title: g for g in report_grids(report(engine.store, engine.registry))}
    grid = zh["medical_dispute: 结案率（按来源渠道）"]
    assert grid.header == ["来源渠道", "收件", "受理", "结案", "百分比 (%)"]
    assert grid.rows == [["来信", 1, 1, 1, 100.0], ["上级交办", 3, 2, 1, 50.0],
                         ["(未填)", 1, 1, 1, 100.0]]
    en = {g.title: g for g in report_grids(report(engine.store, engine.registry, lang="en"))}
    rows = en["medical_dispute: closure rate by channel"].rows
    assert rows[1] == ["assigned", 3, 2, 1, 50.0]
    kpis = en["medical_dispute: figures"].rows
    assert ["closure rate of assigned cases", 1, 2, 50.0,
            "accepted cases assigned by a higher authority"] in kpis


def test_by_channel_counts_with_the_titles(engine: Engine) -> None:
    doc = report(engine.store, engine.registry, by=["channel"]).as_dict()
    table = doc["tables"][0]
    assert [(r["label"], r["count"], r["percent"]) for r in table["rows"]] == [
        ("来信", 1, 20.0), ("上级交办", 3, 60.0), ("(未填)", 1, 20.0)]
    assert table["titles"] == ["来源渠道"]


def test_a_process_without_an_assigned_value_has_no_assigned_rate(tmp_path: Path) -> None:
    """five_step without its `channel` field declares neither `source` nor `channel`: no
    origin table, no 交办件办结率."""
    text = (PROCESSES / "five_step.yaml").read_text(encoding="utf-8")
    start, end = text.index("  channel:"), text.index("  owner_leader:")
    text = text[:start] + text[end:]
    text = text.replace("accepts: [petitioner, supervising_unit, channel]",
                        "accepts: [petitioner, supervising_unit]")
    (tmp_path / "five_step.yaml").write_text(text, encoding="utf-8")
    engine = Engine(processes=[tmp_path], clock=SimulatedClock(at("2026-03-02T09:00:00")))
    assert "channel" not in engine.registry.latest("five_step").process.fields
    engine.start("five_step", {"receiving_leader": "陈副市长", "matter_type": "individual",
                               "responsible_unit": "西城区", "subject": "欠薪"},
                 actor=Actor("刘科长", "bureau"))
    fig = report(engine.store, engine.registry).as_dict()["by_process"]["five_step"]
    assert "assigned_closure_rate" not in fig["rates"] and "closure_by_origin" not in fig


def test_five_step_counts_its_assigned_channel() -> None:
    engine = Engine(processes=[PROCESSES], clock=SimulatedClock(at("2026-03-02T09:00:00")))
    engine.start("five_step", {"receiving_leader": "陈副市长", "matter_type": "individual",
                               "responsible_unit": "西城区", "subject": "欠薪",
                               "channel": "assigned"}, actor=Actor("刘科长", "bureau"))
    fig = report(engine.store, engine.registry).as_dict()["by_process"]["five_step"]
    # received, not yet accepted: counted among the assigned cases, in no rate's denominator
    assert fig["rates"]["assigned_closure_rate"]["denominator"] == 0
    assert fig["closure_by_origin"]["channel"]["assigned"]["cases"] == 1
