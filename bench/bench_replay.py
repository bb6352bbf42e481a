"""Replay throughput: flowengine's replay (read + decode + fold through `engine.fold.apply` +
hash-chain verification) against a plain-Python fold over the same SQLite rows (read
`ORDER BY id` + `json.loads` + dict merge, like the peer's `fold_id`), measured side by
side in one run and reported as a ratio (target ≥ 0.5×; shared/peer-bench RESULTS.md §5).

    python bench/bench_replay.py [--events 200000] [--rounds 5] [--db bench/out/replay.db]

The database is built once through the engine and the SQL store from the shipped
`standard_case` procedure: `--in-flight` cases open at a time, the next step given to a
random one, so the events of different cases interleave in the table as in a real office;
the clock moves a minute per step and timers tick now and then. It is kept under
bench/out/ and reused when it already holds the asked number of events.

Variants, run in rotating order each round:
  plain_fold    sqlite3, ORDER BY id; per row: json.loads(body), get-or-create the case dict,
                check seq contiguity, merge `data`, state = dest  (the baseline)
  replay        flowengine: every case rebuilt and its chain verified, streaming case by
                case (`audit.verify.replay_all(redecide=False)`); the headline figure, the
                same work as the peer's fold plus the hash chain
  redecide      the same plus planning every event again on the pinned definition and
                comparing it with the stored one (what the CLI's replay and verify do to
                catch a forged transition with a valid chain)
  audit_verify  `audit verify`: re-deciding plus loading and comparing each stored
                projection, the outbox and the definitions
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from machine_info import cpu_model  # noqa: E402

from flowengine import Actor, Engine, SimulatedClock, SystemClock  # noqa: E402
from flowengine.audit.verify import replay_all, verify_store  # noqa: E402
from flowengine.store.sql import SqlStore  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
CLERK, DIRECTOR, DEPUTY = Actor("王芳", "clerk"), Actor("李明", "office_director"), Actor(
    "赵强", "deputy_leader")
Step = tuple[str, dict[str, object], Actor]


def path_for(rnd: random.Random) -> list[Step]:
    """One standard_case from acceptance to close, and to archive when the petitioner
    is satisfied (filed or not, some opinion)."""
    if rnd.random() < 0.1:
        return [("redirect", {"redirect_to": "区人民法院"}, CLERK)]
    steps: list[Step] = [("accept", {}, CLERK)]
    steps += ([("request_filing", {}, CLERK), ("approve_filing", {}, DEPUTY)]
              if rnd.random() < 0.3 else [("investigate", {}, CLERK)])
    opinion = rnd.choice(["satisfied", "satisfied", "unsatisfied", "no_response"])
    steps += [
        ("assign", {"department": rnd.choice(["城管局", "住建局", "人社局"]), "handler": "刘洋"}, CLERK),
        ("draft_reply", {"claim": "请求处理",
            "findings": "经调查属实", "proposed_result": "supported",
            "legal_basis": "条例第三十二条"}, CLERK),
        ("sign_off", {}, DIRECTOR), ("sign_off", {}, DEPUTY),
        ("issue_reply", {"reply_text": "已责令整改，请监督。"}, CLERK),
        ("record_opinion", {"petitioner_opinion": opinion}, CLERK),
        ("close", {"result": "supported", "signed_by": "李明", "sealed": True}, CLERK),
    ]
    # Only a satisfied petitioner's case is archived at once; the others stay closed while
    # their 30-day review window runs (the process refuses to archive them earlier).
    return steps + [("archive", {}, CLERK)] if opinion == "satisfied" else steps


def _count(path: Path) -> int:
    if not path.exists():
        return 0
    con = sqlite3.connect(path)
    try:
        return int(con.execute("SELECT count(*) FROM events").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        con.close()


def build(path: Path, target: int, in_flight: int, seed: int = 42) -> float:
    """Write at least `target` events through the engine; returns the seconds it took."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(seed)
    clock = SimulatedClock(datetime(2026, 1, 5, 9, 0, tzinfo=TZ))
    store = SqlStore(f"sqlite:///{path}?synchronous=normal")  # only the build goes faster
    engine = Engine(store=store, processes=[ROOT / "processes" / "standard_case.yaml"],
                    clock=clock)
    written = 0

    def count(events: object, case: object) -> None:
        nonlocal written
        written += len(events)  # type: ignore[arg-type]

    engine.subscribe(count)
    pool: list[list[object]] = []
    serial = steps_done = 0
    t0 = time.perf_counter()
    while written < target:
        while len(pool) < in_flight:
            serial += 1
            data = {"petitioner": f"信访人{serial}", "subject": rnd.choice(
                ["噪音扰民", "拖欠工资", "违章建筑", "物业纠纷", "征地补偿"])}
            case = engine.start("standard_case", data, actor=CLERK)
            pool.append([case.id, path_for(rnd), 0])
        k = rnd.randrange(len(pool))
        case_id, steps, pos = pool[k]
        trigger, data, actor = steps[pos]  # type: ignore[index]
        engine.fire(case_id, trigger, data, actor=actor)  # type: ignore[arg-type]
        pool[k][2] = pos + 1  # type: ignore[operator]
        if pool[k][2] == len(steps):  # type: ignore[arg-type]
            pool[k] = pool[-1]
            pool.pop()
        clock.advance(timedelta(minutes=1))
        steps_done += 1
        if steps_done % 5000 == 0:
            engine.tick()
    store.close()
    return time.perf_counter() - t0


SELECT_ID = "SELECT case_id, seq, body FROM events ORDER BY id"


def plain_fold(path: Path) -> int:
    """The baseline: the peer's fold_id over our rows."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    cases: dict[str, dict[str, object]] = {}
    get, loads, n = cases.get, json.loads, 0
    for case_id, seq, body in con.execute(SELECT_ID):
        st = get(case_id)
        if st is None:
            st = cases[case_id] = {"state": None, "seq": 0, "data": {}}
        if seq != st["seq"] + 1:  # type: ignore[operator]
            raise ValueError(f"case {case_id}: seq {seq} after {st['seq']}")
        doc = loads(body)
        st["data"].update(doc["data"])  # type: ignore[attr-defined]
        if doc["dest"] is not None:
            st["state"] = doc["dest"]
        st["seq"] = seq
        n += 1
    con.close()
    return n


def ours(path: Path, redecide: bool = False) -> int:
    store = SqlStore(f"sqlite:///{path}")
    try:
        rep = replay_all(store, redecide=redecide)
    finally:
        store.close()
    assert rep.ok, rep.problems[:3]
    return rep.events


def ours_redecide(path: Path) -> int:
    return ours(path, redecide=True)


def ours_verify(path: Path) -> int:
    store = SqlStore(f"sqlite:///{path}")
    try:
        rep = verify_store(store)
    finally:
        store.close()
    assert rep.ok, rep.problems[:3]
    return rep.events


VARIANTS: dict[str, Callable[[Path], int]] = {
    "plain_fold": plain_fold, "replay": ours, "redecide": ours_redecide,
    "audit_verify": ours_verify}


def measure(path: Path, rounds: int) -> dict[str, list[float]]:
    """events/s of each variant, one list entry per round (variants back to back)."""
    rates: dict[str, list[float]] = {k: [] for k in VARIANTS}
    names = list(VARIANTS)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            t0 = time.perf_counter()
            n = VARIANTS[name](path)
            rates[name].append(n / (time.perf_counter() - t0))
    return rates


def round_ratios(rates: dict[str, list[float]], name: str) -> list[float]:
    """`name` ÷ plain_fold within each round: the figure that holds on a shared machine."""
    return [a / b for a, b in zip(rates[name], rates["plain_fold"], strict=True)]


def machine() -> str:
    return (f"{os.cpu_count()} CPU(s) ({cpu_model()}), Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--in-flight", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--db", type=Path, default=HERE / "out" / "replay.db")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    have = _count(args.db)
    if have < args.events:
        took = build(args.db, args.events, args.in_flight)
        print(f"built {_count(args.db)} events in {took:.0f} s", file=sys.stderr)
    rates = measure(args.db, args.rounds)
    med = {k: statistics.median(v) for k, v in rates.items()}
    doc = {
        "date": SystemClock().now().date().isoformat(), "machine": machine(),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                 capture_output=True, text=True).stdout.strip(),
        "events": _count(args.db), "db_bytes": args.db.stat().st_size, "rounds": args.rounds,
        "events_per_s": {k: {"median": round(m), "min": round(min(rates[k])),
                             "max": round(max(rates[k]))} for k, m in med.items()},
        "ratio_replay": round(statistics.median(round_ratios(rates, "replay")), 3),
        "ratio_redecide": round(statistics.median(round_ratios(rates, "redecide")), 3),
        "ratio_audit_verify": round(statistics.median(round_ratios(rates, "audit_verify")), 3),
        "ratios_replay_by_round": [round(x, 3) for x in round_ratios(rates, "replay")],
    }
    if args.json:
        print(json.dumps(doc, indent=2))
        return
    print(f"{doc['events']} events, {args.rounds} rounds, {doc['machine']}")
    for k, v in doc["events_per_s"].items():
        print(f"  {k:13} {v['median']:>9,} events/s [{v['min']:,}–{v['max']:,}]")
    print(f"  replay ÷ plain fold = {doc['ratio_replay']}× (median of the rounds' ratios "
          f"{doc['ratios_replay_by_round']}; target ≥ 0.5×); "
          f"replay + re-deciding ÷ plain fold = {doc['ratio_redecide']}×; "
          f"audit verify ÷ plain fold = {doc['ratio_audit_verify']}×")


if __name__ == "__main__":
    main()
