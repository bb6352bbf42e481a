"""The 958 complaints of a published hospital study, loaded as medical_dispute cases and
counted with `flowengine.audit.report`: the study's four tables and a cross-table.

The study (a retrospective review of the complaint visits a psychiatric hospital's office
registered from 1 January 2008 to 31 December 2011) publishes only the marginal counts:

    content      医疗质量 199, 服务态度 380, 管理流程 138, 经济纠纷 99, 其他 142
    department   住院科室 113, 医技部门 96, 门诊部 445, 后勤保障部等其他部门 304
    cause        医院方面 415, 患者方面 271, 医院外部 142, 其他方面 130
    year         2008: 113, 2009: 160, 2010: 290, 2011: 395

and concludes that the service-attitude complaints come mostly from the outpatient
department. The content × department counts below are therefore *constructed*: they add
up to every published marginal and put most 服务态度 complaints in the 门诊部 (260 of
380), as the conclusion says, but the study does not print them. Cause and year are dealt
out to the cases by a fixed permutation, so their marginals match too.

Run:  python examples/complaint_study.py [--lang en] [--json] [--db sqlite:///study.db]
(default: an in-memory store; about two seconds).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flowengine import Actor, Engine, SimulatedClock
from flowengine.audit.report import report
from flowengine.audit.report.grids import table_grid
from flowengine.audit.sheets import grid_lines

PROCESSES = Path(__file__).resolve().parent.parent / "processes"
TZ = ZoneInfo("Asia/Shanghai")
RECEPTION, DIRECTOR = Actor("院办接待", "reception"), Actor("院办主任", "office_director")
DEPARTMENTS = ("inpatient", "medtech", "outpatient", "other")
CONTENT_BY_DEPARTMENT = {  # constructed (see above); rows and columns add up to the study
    "medical_quality": (50, 40, 80, 29),  # 199
    "service_attitude": (30, 20, 260, 70),  # 380
    "management_process": (10, 15, 40, 73),  # 138
    "financial": (8, 11, 35, 45),  # 99
    "other": (15, 10, 30, 87),  # 142
}
CAUSES = {"hospital": 415, "patient": 271, "external": 142, "other": 130}
YEARS = {2008: 113, 2009: 160, 2010: 290, 2011: 395}
TABLES = (("category",), ("department_kind",), ("cause",), ("year",),
          ("category", "department_kind"))


def complaints() -> list[tuple[str, str, str, int]]:
    """958 (category, department, cause, year), ordered by year."""
    pairs = [(category, dept) for category, counts in CONTENT_BY_DEPARTMENT.items()
             for dept, n in zip(DEPARTMENTS, counts, strict=True) for _ in range(n)]
    causes = [c for c, n in CAUSES.items() for _ in range(n)]
    years = [y for y, n in YEARS.items() for _ in range(n)]
    total = len(pairs)
    assert total == len(causes) == len(years) == 958
    # 337 and 571 share no factor with 958 = 2 × 479: i -> i·k mod 958 is a permutation
    rows = [(c, d, causes[i * 337 % total], years[i * 571 % total])
            for i, (c, d) in enumerate(pairs)]
    return sorted(rows, key=lambda r: r[3])


def load(engine: Engine) -> int:
    """Register, verify and classify every complaint, each on its own day of its year."""
    seen: dict[int, int] = {}
    for i, (category, dept, cause, year) in enumerate(complaints()):
        k = seen[year] = seen.get(year, -1) + 1
        when = datetime(year, 1, 2, 9, tzinfo=TZ) + timedelta(days=k * 360 // YEARS[year])
        case = engine.start("medical_dispute", {
            "complainant": f"投诉人{i:03d}", "relation": "patient", "patient": f"患者{i:03d}",
            "department_kind": dept}, actor=RECEPTION, at=when)
        engine.fire(case.id, "verify_identity", actor=RECEPTION, at=when + timedelta(hours=1))
        engine.fire(case.id, "determine", {"category": category, "cause": cause,
                                           "responsibility": "none"},
                    actor=DIRECTOR, at=when + timedelta(hours=3))
    return len(complaints())


def study_engine(db: str | None = None) -> Engine:
    clock = SimulatedClock(datetime(2008, 1, 1, tzinfo=TZ))
    engine = Engine(db, processes=[PROCESSES], clock=clock)
    load(engine)
    return engine


def study_tables(engine: Engine, lang: str = "zh") -> list[dict[str, object]]:
    """The five tables, as `report(..., by=...)` computes them."""
    return [report(engine.store, engine.registry, by=by, lang=lang).tables()[0]
            for by in TABLES]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--db", default=None, help="a database URL (default: in memory)")
    args = parser.parse_args(argv)
    tables = study_tables(study_engine(args.db), args.lang)
    if args.json:
        print(json.dumps(tables, ensure_ascii=False, indent=2))
        return 0
    for table in tables:
        print("\n".join(grid_lines(table_grid(table, args.lang))), end="\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
