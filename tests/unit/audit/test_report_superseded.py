"""The report on real escalated five_step cases: a clock the escalation took over
(`superseded`) is counted neither on time nor late, unless it had already passed."""

from __future__ import annotations

from datetime import timedelta

from flowengine import Actor
from flowengine.audit.report import report
from tests.support.audit import at, new_engine

BUREAU = Actor("刘科长", "bureau")
OWNER = Actor("赵副区长", "owner_leader")
START = {"receiving_leader": "陈副市长", "matter_type": "individual", "responsible_unit": "西城区"}


def test_escalation_supersedes_and_the_report_counts_it_neither() -> None:
    """Both assigned on 03-02 (assign_owner met on time). P escalated on 03-03: its
    send_feedback (due 03-05) and submit_opinion are superseded before they are due. Q
    escalated on 03-06 after a tick marked its send_feedback overdue: that one stays late."""
    engine, clock = new_engine("2026-03-02T09:00:00")
    team = {"owner_leader": "赵副区长", "resolution_team": ["人社局"]}
    p = engine.start("five_step", {**START, "subject": "欠薪P"}, actor=BUREAU)
    q = engine.start("five_step", {**START, "subject": "欠薪Q"}, actor=BUREAU)
    clock.advance(timedelta(hours=2))
    engine.fire(p.id, "assign_owner", team, actor=BUREAU)
    engine.fire(q.id, "assign_owner", team, actor=BUREAU)
    clock.set(at("2026-03-03T09:00:00"))
    p = engine.fire(p.id, "escalate", {"escalation_reason": "跨区"}, actor=OWNER)
    clock.set(at("2026-03-06T09:00:00"))
    engine.tick()
    q = engine.fire(q.id, "escalate", {"escalation_reason": "跨区"}, actor=BUREAU)
    assert {n: p.deadlines[n].status for n in ("assign_owner", "send_feedback", "submit_opinion")
            } == {"assign_owner": "met", "send_feedback": "superseded", "submit_opinion": "superseded"}
    assert (q.deadlines["send_feedback"].status, q.deadlines["send_feedback"].late) == ("superseded", True)
    deadlines = report(engine.store).as_dict()["by_process"]["five_step"]["deadlines"]
    assert (deadlines["assign_owner"]["on_time"], deadlines["assign_owner"]["late"]) == (2, 0)
    feedback = deadlines["send_feedback"]
    assert (feedback["on_time"], feedback["late"], feedback["neither"]) == (0, 1, 1)
    assert feedback["by_status"] == {"superseded": 2}
    opinion = deadlines["submit_opinion"]
    assert (opinion["on_time"], opinion["late"], opinion["neither"]) == (0, 0, 2)
