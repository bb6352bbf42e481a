"""Concurrent durable fires on one database: group commit against one commit per fire.

    python bench/bench_group_commit.py [--cases 480] [--k 1 2 4 8 16] [--rounds 3] [--no-pg]

Workload: the peer reference process (bench/refproc.yaml); `--cases` cases started before
the clock starts, split evenly between K firers, each driving its own cases through their
triggers (one `Engine.fire` per transition, each durable when it returns). Per K, in every
round and side by side:

- `raw peer`: shared/peer-bench's "raw sqlite3, 1 commit/event, WAL FULL" loop (one
  thread; bench_persist.py's `run_raw_peer`): the reference of the target (≥ 2× at K = 8);
- `threads, one commit per fire`: K threads sharing one `Engine` on `SqlStore` (today);
- `threads, group commit`: the same with `SqlStore(group_commit=True)`;
- `processes, group commit`: K processes, each its own engine and store on the same file
  (a leader cannot serve another process: each commits its own fires);
- on a durable PostgreSQL server (fsync on): K threads, one commit per fire (the server's
  own group commit, `commit_delay` 0) and with `group_commit=True`.

All SQLite loops: WAL, synchronous=FULL. Aggregate fires/s = all fires / wall time from
the first fire to the last. Results replace the "group" section of RESULTS-store.md.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from bench_persist import ACTOR, REFPROC, START, fires_of, path_for, run_raw_peer
from store_common import machine, machine_table, postgres, remove_sqlite, write_section

from flowengine import Engine, SimulatedClock
from flowengine.store.sql import SqlStore

BATCH: dict[tuple[str, int], list[float]] = defaultdict(list)  # mean appends per commit


def _started(url: str, n: int, group: bool) -> tuple[Engine, list[str]]:
    store = SqlStore(url, group_commit=group)
    engine = Engine(store=store, processes=[REFPROC], clock=SimulatedClock(START), plugins=[])
    ids = [engine.start("refproc", {"in_jurisdiction": bool(i % 10)}, actor=ACTOR).id
           for i in range(n)]
    return engine, ids


def _drive(engine: Engine, cases: list[tuple[int, str]]) -> int:
    """Fire every trigger of `cases` ((index at start, id)), trigger by trigger across
    the cases."""
    count = 0
    for step in range(max(len(path_for(i)) for i, _ in cases)):
        for i, case_id in cases:
            path = path_for(i)
            if step < len(path):
                engine.fire(case_id, path[step], actor=ACTOR)
                count += 1
    return count


def run_threads(url: str, cases: int, k: int, group: bool) -> float:
    engine, ids = _started(url, cases, group)
    committer = engine.store.group  # type: ignore[attr-defined]
    if committer is not None:  # count the fires only, not the starts
        committer.batches = committer.appends = 0
    shares = [list(enumerate(ids))[j::k] for j in range(k)]
    counts = [0] * k
    errors: list[BaseException] = []
    barrier = threading.Barrier(k + 1)

    def firer(j: int) -> None:
        barrier.wait()
        try:
            counts[j] = _drive(engine, shares[j])
        except BaseException as exc:  # noqa: BLE001 - raised again by the caller
            errors.append(exc)

    threads = [threading.Thread(target=firer, args=(j,)) for j in range(k)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    rate = sum(counts) / (time.perf_counter() - t0)
    if committer is not None and committer.batches:
        BATCH[(url.split(":", 1)[0], k)].append(committer.appends / committer.batches)
    engine.store.close()  # type: ignore[attr-defined]
    if errors:
        raise errors[0]
    assert sum(counts) == len(fires_of(cases)), (sum(counts), len(fires_of(cases)))
    return rate


def _process_firer(url: str, n: int, offset: int, ready: Any, go: Any, out: Any) -> None:
    os.environ["FLOWENGINE_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    engine, ids = _started(url, n, True)
    del offset
    ready.put(1)
    go.wait()
    t0 = time.time()
    count = _drive(engine, list(enumerate(ids)))
    out.put((t0, time.time(), count))
    engine.store.close()  # type: ignore[attr-defined]


def run_processes(url: str, cases: int, k: int) -> float:
    ctx = mp.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    SqlStore(url).close()  # the schema, before K processes race to create it
    procs = [ctx.Process(target=_process_firer, args=(url, cases // k, j, ready, go, out))
             for j in range(k)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=600)
    go.set()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
        assert p.exitcode == 0, p.exitcode
    start, end = min(r[0] for r in results), max(r[1] for r in results)
    return sum(r[2] for r in results) / (end - start)


def variants(folder: Path, cases: int, ks: list[int], pg: Any,
             processes: bool) -> dict[str, Callable[[], float]]:
    n = len(fires_of(cases))

    def db(name: str) -> str:
        path = folder / f"{name}.db"
        remove_sqlite(path)
        return f"sqlite:///{path}"

    out: dict[str, Callable[[], float]] = {
        "raw peer, 1 thread": lambda: run_raw_peer(Path(db("peer")[len("sqlite:///"):]), n)}
    for k in ks:
        out[f"K={k} threads, one commit per fire"] = (
            lambda k=k: run_threads(db("plain"), cases, k, False))  # type: ignore[misc]
        out[f"K={k} threads, group commit"] = (
            lambda k=k: run_threads(db("group"), cases, k, True))  # type: ignore[misc]
        if processes:
            out[f"K={k} processes, group commit"] = (
                lambda k=k: run_processes(db("procs"), cases, k))  # type: ignore[misc]
        if pg is not None:
            out[f"K={k} PostgreSQL threads, one commit per fire"] = (
                lambda k=k: run_threads(pg.fresh_url(), cases, k, False))  # type: ignore[misc]
            out[f"K={k} PostgreSQL threads, group commit"] = (
                lambda k=k: run_threads(pg.fresh_url(), cases, k, True))  # type: ignore[misc]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=480)
    parser.add_argument("--k", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-processes", action="store_true")
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    os.environ["FLOWENGINE_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        info = machine(folder)
        with postgres(durable=True) if not args.no_pg else nullcontext() as pg:
            info["postgresql"] = "durable server (fsync on), loopback" if pg else "not run"
            runs = variants(folder, args.cases, args.k, pg, not args.no_processes)
            results: dict[str, list[float]] = {name: [] for name in runs}
            for r in range(args.rounds):
                for name, run in runs.items():
                    results[name].append(run())
                    print(f"round {r + 1} {name:45s} {results[name][-1]:9,.0f} fires/s "
                          f"(load {os.getloadavg()[0]:.2f})", flush=True)
        info["load after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = report(results, info, args)
    print(text)
    if not args.no_write:
        write_section("group", text)


def report(results: dict[str, list[float]], info: dict[str, Any], args: Any) -> str:
    peer = results["raw peer, 1 thread"]
    lines = ["## Group commit (bench_group_commit.py)", "",
             f"`python bench/bench_group_commit.py --cases {args.cases} --k "
             f"{' '.join(map(str, args.k))} --rounds {args.rounds}`: "
             f"{len(fires_of(args.cases)):,} fires per loop; medians [min–max] of the rounds; "
             "the ratio is the median of per-round ratios to the raw peer loop of the same "
             "round.", "", machine_table(info),
             "| loop | fires/s | × raw peer |", "|---|---:|---:|"]
    for name, values in results.items():
        ratios = [v / p for v, p in zip(values, peer, strict=True)]
        lines.append(f"| {name} | {statistics.median(values):,.0f} [{min(values):,.0f}–"
                     f"{max(values):,.0f}] | {statistics.median(ratios):.2f}× |")
    lines += ["", "Appends per commit with group commit (threads; the mean of each run, "
              "medians): " + ", ".join(
                  f"{'SQLite' if db == 'sqlite' else 'PostgreSQL'} K={k}: "
                  f"{statistics.median(v):.1f}" for (db, k), v in BATCH.items())]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
