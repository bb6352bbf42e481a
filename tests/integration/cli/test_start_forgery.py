"""`flowengine case start` refuses every built-in or computed field in its data (issue 14,
item 0) on a real SQLite file: exit 2, the field named, no id printed, no case stored."""

from __future__ import annotations

import json

import pytest

from .conftest import Cli

FORGED = [{"name": "孙局长", "role": "principal", "at": "2026-03-02T09:00:00+08:00"}]


def _start(cli: Cli, *extra: str) -> tuple[int, str, str]:
    r = cli("case", "start", "standard_case", "--set", "petitioner=张三", "--set",
            "subject=工程款拖欠", "--set", "importance=important", "--actor", "王芳",
            "--role", "clerk", "--at", "2026-03-02T09:00", *extra)
    return r.code, r.stdout, r.stderr


@pytest.mark.parametrize(("extra", "field", "why"), [
    (["--data", json.dumps({"signatures": FORGED})], "signatures", "written only by a fire"),
    (["--set", "duplicate_of=C0000000000000001"], "duplicate_of", "written by the engine"),
    (["--set", "owner=孙局长"], "owner", "whoever starts the case"),
    (["--set", "replied_on=2026-03-01"], "replied_on", "computed by 'issue_reply'"),
    (["--set", "reply_text=已答复"], "reply_text", "'start' does not record reply_text"),
])
def test_each_built_in_field_is_refused_and_nothing_is_stored(
        cli: Cli, extra: list[str], field: str, why: str) -> None:
    code, out, err = _start(cli, *extra)
    assert code == 2 and out == ""
    assert "error: no case was created: 'start' rejected" in err
    reason = err.split("  - data: ", 1)[1]
    assert field in reason and why in reason and "Traceback" not in err
    assert cli("case", "list", "--json").json() == {"cases": []}


def test_the_json_refusal_names_no_case(cli: Cli) -> None:
    r = cli("case", "start", "standard_case", "--set", "petitioner=张三", "--set",
            "subject=噪音", "--data", json.dumps({"signatures": FORGED}), "--actor", "王芳",
            "--role", "clerk", "--json")
    assert r.code == 2
    doc = r.json()
    assert (doc["ok"], doc["case"], doc["trigger"]) == (False, None, "start")
    assert doc["reasons"][0]["message"].startswith("signatures cannot be given")


def test_a_list_item_of_the_wrong_type_is_refused(cli: Cli) -> None:
    case_id = cli.start()
    for trigger in ("accept", "investigate"):
        assert cli.fire(case_id, trigger, at="2026-03-03T09:00").code == 0
    r = cli.fire(case_id, "draft_reply", "--data", json.dumps(
        {"claim": "请求处理", "findings": "属实", "proposed_result": "supported",
         "legal_basis": "条例第三十二条"}), at="2026-03-03T10:00")
    assert r.code == 0, r.stderr
    # signatures can only come from sign_off: a fire that tries to record them is refused too
    r = cli.fire(case_id, "issue_reply", "--data", json.dumps(
        {"reply_text": "已答复", "signatures": FORGED}), at="2026-03-04T09:00")
    assert r.code == 2 and "does not record signatures" in r.stderr
    assert cli("case", "show", case_id, "--json").json()["state"] == "reviewing_reply"
