"""The reports to the assigning authority and the 结案上报 go out once per case, even when a
step that sends them happens twice: standard_case counts its replies (`replies_issued`) and
closings (`closings`) and each report answers only the first. Checked on a copy of the
shipped procedure with one more way back to the sign-off (so `issue_reply` can fire twice),
and against the same copy without the counts, so the check can fail."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from flowengine.simulate import run_scenario

SHIPPED = Path(__file__).parent.parent / "processes" / "standard_case.yaml"
WAY_BACK = """  - trigger: reissue_reply
    title: 重新审核签发答复
    source: replied
    dest: reviewing_reply
    roles: [clerk, office_director]
  - trigger: return_for_rework
"""
SCENARIO = """
process: standard_case.yaml
start:
  at: 2026-04-20T09:00:00+08:00
  actor: {name: 王芳, role: clerk}
  data: {petitioner: 秦某, subject: 小区违建拆除, importance: important, source: assigned,
         assigning_authority: 市信访局, assigning_ref: 市信交〔2026〕21号, assigned_due: 2026-05-29}
steps:
  - fire: accept
  - fire: investigate
  - fire: draft_reply
    data: {claim: 请求拆除, findings: 属实, proposed_result: supported, legal_basis: 《城乡规划法》第六十四条}
  - fire: sign_off
    actor: {name: 周局长, role: principal}
  - fire: issue_reply
    after: 1 day
    data: {reply_text: 限期拆除。, served_on: 2026-04-21}
  - fire: reissue_reply
  - fire: issue_reply
    after: 1 day
    data: {reply_text: 限期十五日内拆除。, served_on: 2026-04-22}
  - fire: record_opinion
    data: {petitioner_opinion: unsatisfied}
  - fire: close
    data: {result: supported, signed_by: 周局长, sealed: true, authority_letter_ref: 函〔2026〕3号}
  - fire: request_review
    after: 2 days
  - fire: decide_review
    actor: {name: 市信访局, role: bureau}
    data: {review_opinion: 维持。}
  - fire: close
    after: 1 day
expect:
  state: closed
  data: {replies_issued: 2, closings: 2}
"""


def _sent(tmp_path: Path, *, counted: bool) -> Counter[str]:
    text = SHIPPED.read_text("utf-8").replace("  - trigger: return_for_rework\n", WAY_BACK, 1)
    if not counted:
        text = text.replace(" and replies_issued == 1", "").replace(" and closings == 1", "")
    (tmp_path / "standard_case.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "scenario.yaml").write_text(SCENARIO, encoding="utf-8")
    result = run_scenario(str(tmp_path / "scenario.yaml"))
    assert result.ok, result.failures
    return Counter(str(n.get("name")) for n in result.notifications)


def test_a_second_reply_and_a_second_close_send_no_second_report(tmp_path: Path) -> None:
    sent = _sent(tmp_path, counted=True)
    assert (sent["completion_report"], sent["closing_report"]) == (1, 1)
    assert sent["written_reply"] == 2  # the petitioner gets each reply


def test_without_the_counts_the_reports_would_go_twice(tmp_path: Path) -> None:
    sent = _sent(tmp_path, counted=False)
    assert (sent["completion_report"], sent["closing_report"]) == (2, 2)
