"""The records-only rule at start (issue 14, item 0): a start records only the fields the
process declares for it (required, start.requires, start.accepts); the built-in values
(signatures, duplicate_of, the owner) and computed fields can never be given, and every
item of a list is checked against its item type. A refusal stores nothing."""

from __future__ import annotations

from typing import Any

import pytest

from flowengine import Actor, Engine, InvalidData, TriggerRejected
from flowengine.definition.model import FieldDef
from flowengine.engine.data import SIGNATURES_FIELD, DataError, coerce
from tests.support.engine import CLERK

PETITION = {"petitioner": "张三", "subject": "工程款拖欠", "importance": "important"}
FORGED = [{"name": "孙局长", "role": "principal", "at": "2026-08-03T09:00:00+08:00"}]
PRINCIPAL = Actor("孙局长", "principal")


@pytest.mark.parametrize(("field", "value", "why"), [
    ("signatures", FORGED, "signatures cannot be given: it is written only by a fire"),
    ("duplicate_of", "C000001", "duplicate_of cannot be given: it is written by the engine"),
    ("owner", "孙局长", "owner cannot be given: it is whoever starts the case"),
    ("replied_on", "2026-08-01", "replied_on cannot be given: it is computed by 'issue_reply'"),
    ("review_replied_on", "2026-08-01", "review_replied_on cannot be given: it is computed"),
    ("result", "supported", "'start' does not record result (it records: "),
    ("filed", True, "'start' does not record filed"),
    ("petitoner", "李四", "did you mean 'petitioner'?"),
])
def test_a_start_given_a_field_it_does_not_record_is_refused_and_stores_nothing(
        engine: Engine, field: str, value: Any, why: str) -> None:
    with pytest.raises(InvalidData) as err:
        engine.start("standard_case", {**PETITION, field: value}, actor=CLERK)
    assert (err.value.trigger, err.value.reasons[0].check) == ("start", "data")
    assert why in str(err.value)
    assert engine.cases() == []


def test_a_forged_principal_signature_cannot_replace_the_sign_off(engine: Engine) -> None:
    """The attack of the issue: an important case started with the principal's signature
    in its data went to `replied` without any sign_off. Now the start is refused, and the
    same case started honestly still needs the principal's sign_off."""
    with pytest.raises(InvalidData):
        engine.start("standard_case", {**PETITION, "signatures": FORGED}, actor=CLERK)
    case = engine.start("standard_case", PETITION, actor=CLERK)
    for trigger, data in [("accept", {}), ("investigate", {}),
                          ("draft_reply", {"claim": "请求处理",
                              "findings": "属实", "proposed_result": "supported",
                              "legal_basis": "条例第三十二条"})]:
        engine.fire(case.id, trigger, data, actor=CLERK)
    with pytest.raises(TriggerRejected, match="an important one needs the principal's"):
        engine.fire(case.id, "issue_reply", {"reply_text": "已督促支付"}, actor=CLERK)
    engine.fire(case.id, "sign_off", actor=PRINCIPAL)
    assert engine.fire(case.id, "issue_reply", {"reply_text": "已督促支付"},
                       actor=CLERK).state == "replied"


def test_declared_start_data_is_still_recorded(engine: Engine) -> None:
    data = {**PETITION, "channel": "visit", "contact": "zs@example.com", "source": "assigned",
            "assigning_authority": "市信访局", "assigning_ref": "市信交〔2026〕3号",
            "assigned_due": "2026-09-30"}
    case = engine.start("standard_case", data, actor=CLERK)
    assert case.data["assigning_authority"] == "市信访局" and "signatures" not in case.data


def test_every_list_item_is_checked_against_its_item_type(engine: Engine) -> None:
    case = engine.start("five_step", {"receiving_leader": "王市长", "matter_type": "group",
                                      "responsible_unit": "城关区", "subject": "征地补偿"},
                        actor=CLERK)
    with pytest.raises(InvalidData, match="item 2 of resolution_team must be text, not dict"):
        engine.fire(case.id, "assign_owner", {"owner_leader": "李处长",
                                              "resolution_team": ["张", {"role": "principal"}]},
                    actor=CLERK)
    assert engine.case(case.id).seq == 1


def _list(items: str) -> FieldDef:
    return FieldDef(name="amounts", type="list", items=items, location=None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("items", "value", "why"), [
    ("money", [1, {"a": 1}], "item 2 of amounts must be an amount"),
    ("money", ["1.001"], "item 1 of amounts has more than 2 decimal places"),
    ("date", ["2026-02-30"], "item 1 of amounts must be a date"),
    ("integer", [[1]], "item 1 of amounts must be a whole number"),
    ("string", [["nested"]], "item 1 of amounts must be text, not list"),
])
def test_a_wrong_typed_list_item_is_refused(items: str, value: list[Any], why: str) -> None:
    with pytest.raises(DataError, match=why):
        coerce(_list(items), value)


@pytest.mark.parametrize("value", [
    ["principal"], [{"role": "principal"}], [{"name": "x", "role": "principal", "at": 1}],
    [{"name": "x", "role": "principal", "at": "t", "extra": 1}]])
def test_signatures_hold_only_signature_records(value: list[Any]) -> None:
    with pytest.raises(DataError, match="item 1 of signatures holds signatures"):
        coerce(SIGNATURES_FIELD, value)
    assert coerce(SIGNATURES_FIELD, FORGED) == FORGED  # the recorded shape replays
