"""`flowengine lists` on a real SQLite file: the four lists (四个清单) of both five_step and
standard_case for a mix of cases, as text, JSON and CSV; a case no list's `when` holds
for is on no list; bad options are refused with exit 2."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flowengine import Actor

from .conftest import Cli

TZ = ZoneInfo("Asia/Shanghai")
BUREAU, CLERK = Actor("刘科长", "bureau"), Actor("王芳", "clerk")
FIVE = {"receiving_leader": "陈副市长", "matter_type": "individual", "responsible_unit": "西城区"}


@pytest.fixture
def mix(cli: Cli) -> Cli:
    """A: owner assigned with stabilisation and supervision; B: received only (on no
    list, its assign_owner overdue after a tick); C: a standard case handed down to 区水务局;
    D: a standard case not handed down (on no list); E: a standard case owned by a leader
    (领导包案) with its stabilisation measures."""
    engine = cli.engine()
    t0 = datetime(2026, 3, 2, 9, tzinfo=TZ)
    a = engine.start("five_step", {**FIVE, "subject": "企业欠薪", "supervising_unit": "市督查室"},
                     actor=BUREAU, at=t0)
    engine.start("five_step", {**FIVE, "subject": "宅基地"}, actor=BUREAU, at=t0)
    engine.fire(a.id, "assign_owner", {"owner_leader": "赵副区长", "resolution_team": ["人社局", "街道"],
                                       "stabilisation_owner": "街道王主任",
                                       "stabilisation_measures": "每周走访"},
                actor=BUREAU, at=t0 + timedelta(hours=2))
    c = engine.start("standard_case", {"petitioner": "魏某", "subject": "河道采砂"}, actor=CLERK, at=t0)
    engine.fire(c.id, "accept", actor=CLERK, at=t0 + timedelta(hours=1))
    engine.fire(c.id, "hand_down", {"hand_down_kind": "transfer", "handed_to": "区水务局",
                                    "hand_down_due": "2026-03-31"}, actor=CLERK,
                at=t0 + timedelta(hours=2))
    engine.start("standard_case", {"petitioner": "冯某", "subject": "噪音"}, actor=CLERK, at=t0)
    e = engine.start("standard_case", {"petitioner": "郑某", "subject": "企业改制"}, actor=CLERK, at=t0)
    engine.fire(e.id, "accept", actor=CLERK, at=t0 + timedelta(hours=1))
    deputy = Actor("赵副局长", "deputy_leader")
    engine.fire(e.id, "designate_leader_case", actor=deputy, at=t0 + timedelta(hours=2))
    engine.fire(e.id, "assign_leader", {"owner_leader": "孙局长", "resolution_team": ["人社科"],
                                        "stabilisation_owner": "街道李主任",
                                        "stabilisation_measures": "每周走访一次"},
                actor=deputy, at=t0 + timedelta(hours=3))
    engine.tick(t0 + timedelta(days=2))
    return cli


def test_json_lists_every_declared_list_with_its_cases(mix: Cli) -> None:
    r = mix("lists", "--json")
    assert r.code == 0, r.stderr
    lists = {x["title"]: x["rows"] for x in r.json()["lists"]}
    assert sorted(lists) == sorted([
        "领导包案“13710”工作法: 领导包案责任清单", "领导包案“13710”工作法: 稳控责任清单",
        "领导包案“13710”工作法: 化解责任清单", "领导包案“13710”工作法: 督办责任清单",
        "信访事项办理: 领导包案责任清单", "信访事项办理: 稳控责任清单",
        "信访事项办理: 化解责任清单", "信访事项办理: 督办责任清单"])
    owner = lists["领导包案“13710”工作法: 领导包案责任清单"]
    assert [row["包案县处级领导"] for row in owner] == ["赵副区长"]  # B has no owner yet
    assert owner[0]["状态"] == "明确包案领导和化解专班" and owner[0]["办理情况"] == "办理中"
    assert owner[0]["下一期限"] == "3个工作日内向市信访局反馈" and owner[0]["到期日"] == "2026-03-05"
    assert lists["领导包案“13710”工作法: 化解责任清单"][0]["化解专班"] == "人社局、街道"
    assert lists["领导包案“13710”工作法: 稳控责任清单"][0]["稳控措施"] == "每周走访"
    handed = lists["信访事项办理: 督办责任清单"]  # C handed down, E leader-owned; D on no list
    assert sorted((r["信访事项"], r["转送交办的单位"], r["转送或交办"], r["转送交办单位的办结期限"])
                  for r in handed) == [("企业改制", "", "", ""),
                                       ("河道采砂", "区水务局", "转送", "2026-03-31")]
    owned = {r["信访事项"]: r for r in lists["信访事项办理: 领导包案责任清单"]}
    assert sorted(owned) == ["企业改制", "河道采砂"]
    assert (owned["企业改制"]["包案领导"], owned["企业改制"]["化解专班"]) == ("孙局长", "人社科")
    assert owned["河道采砂"]["包案领导"] == ""  # C's empty owner shows the duty nobody has taken
    assert owned["企业改制"]["下一期限"] == "3个工作日内包案领导反馈办理情况"
    assert sorted(r["稳控措施"] for r in lists["信访事项办理: 稳控责任清单"]) == ["", "每周走访一次"]
    assert sorted(r["转送交办的单位"] for r in lists["信访事项办理: 化解责任清单"]) == ["", "区水务局"]


def test_text_and_csv_show_the_same_rows_and_a_filter(mix: Cli) -> None:
    text = mix("lists", "--process", "standard_case").stdout
    assert text.splitlines()[0] == "信访事项办理: 领导包案责任清单"  # the title, then the header
    assert text.splitlines()[1].split()[:4] == ["案件", "信访事项", "信访人", "包案领导"]
    assert "区水务局" in text and "孙局长" in text and "企业欠薪" not in text
    assert [line for line in text.splitlines() if line.startswith("信访事项办理: ")] == [
        "信访事项办理: 领导包案责任清单", "信访事项办理: 稳控责任清单",
        "信访事项办理: 化解责任清单", "信访事项办理: 督办责任清单"]
    rows = list(csv.reader(io.StringIO(mix("lists", "--format", "csv").stdout.lstrip("\ufeff"))))
    assert ["领导包案“13710”工作法: 督办责任清单"] in rows
    assert any("市督查室" in row and "企业欠薪" in row for row in rows)
    en = mix("lists", "--lang", "en", "--json").json()["lists"]
    assert "owner_leader" in en[0]["columns"]


def test_bad_options_are_refused_without_a_traceback(mix: Cli) -> None:
    r = mix("lists", "--json", "--format", "csv")
    assert r.code == 2 and "disagree" in r.stderr and "Traceback" not in r.stderr
    empty = mix("lists", "--process", "medical_dispute")
    assert empty.code == 0 and empty.stdout == "no case is on any list\n"
