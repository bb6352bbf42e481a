"""Memory of `export --all`: the peak does not grow with the number of cases.

`export --all` streams (one cursor over the events in case order, one case held while its
line is written), so its peak memory should be the same for 1,000 cases as for 20,000.
This script builds one SQLite store per size by copying the eight events of a real
`standard_case` history (written through the engine, so every body decodes as the export
decodes it) under new case ids, then runs `export_all` on each store in a fresh process,
alternating the sizes, and prints per run:

- the Python heap's peak during the export (`tracemalloc`, a run of its own: tracing slows
  the export), and
- the process's peak resident set (`ru_maxrss`, in a run without tracing), less the
  resident set just before the export (the interpreter and the imported modules).

Usage (results go to bench/RESULTS-export.md with date, time and load):

    python3 bench/bench_export.py [SIZES, default 1000,20000] [ROUNDS, default 3]
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout first, whatever is installed
sys.path.insert(1, str(ROOT / "plugins"))

STEPS = [("accept", {}, "clerk"), ("investigate", {}, "clerk"),
         ("assign", {"department": "城管局", "handler": "刘洋"}, "clerk"),
         ("draft_reply", {"claim": "请求处理", "findings": "属实", "proposed_result": "supported",
                          "legal_basis": "条例第三十二条"}, "clerk"),
         ("sign_off", {}, "office_director"), ("sign_off", {}, "deputy_leader"),
         ("issue_reply", {"reply_text": "已整改"}, "clerk")]


def template(folder: str) -> list[tuple[object, ...]]:
    """The `events` rows of one real eight-event case."""
    from flowengine import Actor, Engine
    from flowengine.store.sql import SqlStore

    path = os.path.join(folder, "template.db")
    store = SqlStore(f"sqlite:///{path}")
    engine = Engine(store=store, processes=[ROOT / "processes"])
    t = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    case = engine.start("standard_case", {"petitioner": "张三", "subject": "噪音"},
                        actor=Actor("王芳", "clerk"), at=t)
    for i, (trigger, data, role) in enumerate(STEPS):
        engine.fire(case.id, trigger, data, actor=Actor("王芳", role), at=t + timedelta(days=i + 1))
    store.close()
    con = sqlite3.connect(path)
    rows = con.execute("SELECT * FROM events ORDER BY seq").fetchall()
    names = [d[0] for d in con.execute("SELECT * FROM events").description]
    con.close()
    return [tuple(zip(names, row, strict=True)) for row in rows]


def fill(path: str, cases: int, rows: list[tuple[object, ...]]) -> None:
    from flowengine.store.sql import SqlStore

    SqlStore(f"sqlite:///{path}").close()  # the schema
    first = dict(rows[0])  # type: ignore[arg-type]
    old = str(first["case_id"])
    names = [n for n, _ in rows[0] if n != "id"]  # type: ignore[misc]
    sql = f"INSERT INTO events ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    con = sqlite3.connect(path)
    with con:
        for i in range(cases):
            new = f"C{i:0{len(old) - 1}d}"
            batch = []
            for row in rows:
                values = dict(row)  # type: ignore[arg-type]
                values["case_id"] = new
                values["body"] = str(values["body"]).replace(old, new)
                batch.append(tuple(values[n] for n in names))
            con.executemany(sql, batch)
    con.close()


def one(path: str, trace: bool) -> None:
    """In a fresh process: export every case of `path` to /dev/null; print the figures."""
    import tracemalloc

    from flowengine.audit.whole import export_all
    from flowengine.store.sql import SqlStore

    store = SqlStore(f"sqlite:///{path}", read_only=True)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    with open(os.devnull, "w", encoding="utf-8") as out:
        summary = export_all(store, out, timedelta(hours=1))
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    store.close()
    print(json.dumps({"cases": summary.cases, "events": summary.events, "seconds": seconds,
                      "heap_peak": peak, "rss_growth_kb": after - before,
                      "rss_peak_kb": after}))


def measure(path: str, trace: bool) -> dict[str, float]:
    run = subprocess.run([sys.executable, __file__, "--one", path, "trace" if trace else ""],
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout)  # type: ignore[no-any-return]


def main() -> None:
    sizes = [int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "1000,20000").split(",")]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    folder = tempfile.mkdtemp(prefix="bench-export-")
    rows = template(folder)
    paths = {}
    for n in sizes:
        paths[n] = os.path.join(folder, f"{n}.db")
        fill(paths[n], n, rows)
    results: dict[int, list[dict[str, float]]] = {n: [] for n in sizes}
    for r in range(rounds):  # sizes alternate within each round
        for n in sizes if r % 2 == 0 else list(reversed(sizes)):
            traced, plain = measure(paths[n], True), measure(paths[n], False)
            results[n].append({"heap_peak": traced["heap_peak"],
                               "rss_growth_kb": plain["rss_growth_kb"],
                               "rss_peak_kb": plain["rss_peak_kb"], "seconds": plain["seconds"],
                               "events": plain["events"]})
            print(f"round {r + 1}: {n} cases: heap peak {traced['heap_peak'] / 1e6:.2f} MB, "
                  f"RSS +{plain['rss_growth_kb'] / 1024:.1f} MB (peak "
                  f"{plain['rss_peak_kb'] / 1024:.1f} MB), {plain['seconds']:.1f} s", flush=True)
    for n in sizes:
        runs = results[n]
        print(f"median of {rounds}: {n} cases ({int(runs[0]['events'])} events): heap peak "
              f"{statistics.median(x['heap_peak'] for x in runs) / 1e6:.2f} MB, RSS growth "
              f"{statistics.median(x['rss_growth_kb'] for x in runs) / 1024:.1f} MB, RSS peak "
              f"{statistics.median(x['rss_peak_kb'] for x in runs) / 1024:.1f} MB, export "
              f"{statistics.median(x['seconds'] for x in runs):.1f} s")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        one(sys.argv[2], len(sys.argv) > 3 and sys.argv[3] == "trace")
    else:
        main()
