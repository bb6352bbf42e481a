"""medical_dispute in `report` (issue 11 §6): the 回访 result feeds 满意率 (the report reads
the first enum field with satisfied/unsatisfied, which must be `follow_up_result`, and
`unreachable` is not rated), on-the-spot closes count as closed and by `resolved_on_spot`,
and a reopened complaint is counted by `reopened_times`."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowengine import Actor, Engine, SimulatedClock, TriggerRejected
from flowengine.audit.report import report
from flowengine.audit.report.kpis import satisfaction_field
from flowengine.definition.loader import load_process
from tests.support.audit import PROCESSES, at

RECEPTION, DIRECTOR = Actor("王芳", "reception"), Actor("李明", "office_director")


def _complaint(engine: Engine, name: str, relation: str = "patient", **extra: object) -> str:
    data = {"complainant": name, "relation": relation, "patient": name,
            "department_kind": "outpatient", **extra}
    return engine.start("medical_dispute", data, actor=RECEPTION).id


def _on_spot(engine: Engine, name: str, opinion: str | None) -> str:
    case_id = _complaint(engine, name)
    engine.fire(case_id, "resolve_on_spot", {"on_spot_resolution": "当场解释并致歉"},
                actor=RECEPTION)
    if opinion:
        engine.fire(case_id, "follow_up", {"follow_up_result": opinion}, actor=RECEPTION)
    return case_id


def test_the_report_rates_follow_up_result() -> None:
    process = load_process(PROCESSES / "medical_dispute.yaml")
    assert satisfaction_field(process) == "follow_up_result"
    engine = Engine(processes=[PROCESSES], clock=SimulatedClock(at("2026-03-02T09:00:00")))
    for name, opinion in [("甲", "satisfied"), ("乙", "satisfied"), ("丙", "unsatisfied"),
                          ("丁", "unreachable"), ("戊", None)]:
        _on_spot(engine, name, opinion)
    reopened = _on_spot(engine, "己", "unsatisfied")
    engine.fire(reopened, "reopen", {"new_evidence": "外院报告"}, actor=DIRECTOR)
    rep = report(engine.store, process_id="medical_dispute", by=["resolved_on_spot"])
    fig = rep.as_dict()["by_process"]["medical_dispute"]
    rate = fig["rates"]["satisfaction_rate"]
    # 己's unsatisfied answer was cleared by the reopening: 2 satisfied of 3 rated
    assert (rate["numerator"], rate["denominator"]) == (2, 3)
    assert fig["opinions"] == {"satisfied": 2, "unreachable": 1, "unsatisfied": 1}
    assert (fig["cases"], fig["closed"]) == (6, 5)
    assert engine.case(reopened).data["reopened_times"] == 1


def test_a_psychiatric_hospital_narrows_records_access_in_yaml(tmp_path: Path) -> None:
    """The psychiatric rule of seed 004 (patient or guardian only) is one configuration of
    the `records_access` setting, not code: the same deceased patient's next of kin who may
    read the records under the shipped setting is refused under the narrowed one."""
    text = (PROCESSES / "medical_dispute.yaml").read_text(encoding="utf-8")
    shipped = "default: [patient, guardian, next_of_kin, authorised_agent]"
    assert shipped in text
    (tmp_path / "medical_dispute.yaml").write_text(
        text.replace(shipped, "default: [patient, guardian]"), encoding="utf-8")
    for folder, allowed in ((PROCESSES, True), (tmp_path, False)):
        engine = Engine(processes=[folder], clock=SimulatedClock(at("2026-03-02T09:00:00")))
        case_id = _complaint(engine, "蒋某", "next_of_kin", patient_deceased=True)
        if allowed:
            engine.fire(case_id, "disclose_records", actor=RECEPTION)
            assert engine.case(case_id).data["records_disclosed"] is True
        else:
            with pytest.raises(TriggerRejected, match="may not read or copy the records"):
                engine.fire(case_id, "disclose_records", actor=RECEPTION)
