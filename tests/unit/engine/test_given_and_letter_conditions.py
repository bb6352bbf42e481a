"""Three small process-language features (docs/process-language.md): a requirement
`given: true` must come with the fire itself (an earlier fire's value does not count); a
notification's `when` picks the letter that fits the reason; a deadline's `started` event
tells the due date when the period begins, and only when declared."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from flowengine import Engine, SimulatedClock, TriggerRejected
from tests.support.engine import CLERK, at

PROCESS = """
id: tiny
roles: [clerk]
fields:
  who: {type: string, required: true}
  amount: {type: money, min: 0}
  days: {type: integer, min: 1}
  agree: {type: boolean, default: false}
states:
  open: {initial: true}
  done: {final: true}
transitions:
  - trigger: extend
    source: open
    roles: [clerk]
    requires:
      - {fields: [days, agree], given: true}
    guard: [{expr: agree, message: both sides must agree}]
  - trigger: finish
    source: open
    dest: done
    roles: [clerk]
    requires: [amount]
deadlines:
  work:
    start: {started: true}
    stop: {enter: done}
    length: 5 working days
    extension: {trigger: extend, reason_field: null}
    on_overdue: {mark: true}
notifications:
  told_at_start:
    on: {deadline: work, event: started}
    to: [petitioner]
    message: "{who}: due {due}"
  large:
    on: {trigger: finish}
    when: "amount >= 200000"
    to: [petitioner]
    message: "large {amount}"
  small:
    on: {trigger: finish}
    when: "amount < 200000"
    to: [petitioner]
    message: "small {amount}"
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Engine:
    (tmp_path / "tiny.yaml").write_text(PROCESS, encoding="utf-8")
    return Engine(processes=[tmp_path], clock=SimulatedClock(at("2026-08-03T09:00:00")))


def _notes(engine: Engine, case_id: str) -> list[Mapping[str, Any]]:
    return [n for e in engine.history(case_id) for n in e.notifications]


def test_a_second_extension_needs_its_own_agreement(tiny: Engine) -> None:
    case = tiny.start("tiny", {"who": "张某"}, actor=CLERK)
    tiny.fire(case.id, "extend", {"days": 2, "agree": True}, actor=CLERK)
    assert tiny.case(case.id).data["agree"] is True  # still stored from the first one
    with pytest.raises(TriggerRejected) as err:
        tiny.fire(case.id, "extend", {"days": 2}, actor=CLERK)
    assert "agree must be given with this fire" in str(err.value)
    with pytest.raises(TriggerRejected, match="both sides must agree"):
        tiny.fire(case.id, "extend", {"days": 2, "agree": False}, actor=CLERK)
    assert tiny.case(case.id).deadlines["work"].extensions == 1
    tiny.fire(case.id, "extend", {"days": 2, "agree": True}, actor=CLERK)
    assert tiny.case(case.id).deadlines["work"].extensions == 2


def test_the_started_letter_tells_the_due_date(tiny: Engine) -> None:
    case = tiny.start("tiny", {"who": "张某"}, actor=CLERK)
    [note] = _notes(tiny, case.id)
    assert (note["kind"], note["name"], note["due"]) == ("started", "told_at_start", "2026-08-10")
    assert note["messages"] == {"default": "张某: due 2026-08-10"}


@pytest.mark.parametrize(("amount", "letter"), [(199999.99, "small"), (200000, "large")])
def test_when_picks_the_letter(tiny: Engine, amount: float, letter: str) -> None:
    case = tiny.start("tiny", {"who": "张某"}, actor=CLERK)
    tiny.fire(case.id, "finish", {"amount": str(amount)}, actor=CLERK)
    names = [n["name"] for n in _notes(tiny, case.id)]
    assert names == ["told_at_start", letter]


def test_an_undeclared_started_event_sends_nothing(tmp_path: Path) -> None:
    text = PROCESS.split("notifications:")[0]
    (tmp_path / "tiny.yaml").write_text(text, encoding="utf-8")
    engine = Engine(processes=[tmp_path], clock=SimulatedClock(at("2026-08-03T09:00:00")))
    case = engine.start("tiny", {"who": "张某"}, actor=CLERK)
    assert case.deadlines["work"].status == "open"
    assert _notes(engine, case.id) == []
