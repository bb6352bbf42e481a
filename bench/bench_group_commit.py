"""Concurrent durable fires on one database: group commit against one commit per fire.

    python bench/bench_group_commit.py [--cases 2400] [--k 1 2 4 8 16] [--rounds 3] [--no-pg]
                                       [--base DIR]

Workload: the peer reference process (bench/refproc.yaml); `--cases` cases started before
the clock starts, split evenly between K firers, each driving its own cases through their
triggers (one `Engine.fire` per transition, each durable when it returns). Per K, in every
round and side by side:

- `raw peer`: shared/peer-bench's "raw sqlite3, 1 commit/event, WAL FULL" loop (one
  thread; bench_persist.py's `run_raw_peer`): the reference of the target (≥ 2× at K = 8);
- `threads, one commit per fire`: K threads sharing one `Engine` on `SqlStore` (today);
- `threads, group commit`: the same with `SqlStore(group_commit=True)`;
- `processes, group commit`: K processes, each its own engine and store on the same file
  (each commits its own batches and flushes the WAL after releasing the write lock,
  store/flush.py);
- on a durable PostgreSQL server (fsync on): K threads, one commit per fire (the server's
  own group commit, `commit_delay` 0) and with `group_commit=True`.

All SQLite loops: WAL, synchronous=FULL. Aggregate fires/s = all fires / wall time from
the first fire to the last. Results replace the "group" section of RESULTS-store.md.

`--base DIR` (a checkout of other code, e.g. a detached worktree of the commit before):
every SQLite group-commit loop also runs on DIR's code right before or after this
checkout's (the order alternates by round), each in a fresh process (no PostgreSQL and no
one-commit-per-fire loops in this mode), so before and after share the round's
machine state and its raw peer loop. The machine is noisy: read ratios, not rates.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from bench_persist import ACTOR, REFPROC, START, fires_of, path_for, run_raw_peer
from store_common import (
    flush_latency_us,
    machine,
    machine_table,
    postgres,
    remove_sqlite,
    write_section,
)

from flowengine import Engine, SimulatedClock
from flowengine.store.sql import SqlStore

BATCH: dict[tuple[str, int], list[float]] = defaultdict(list)  # mean appends per commit
HERE = Path(__file__).resolve().parent
CPU: dict[tuple[str, int], tuple[float, float, float]] = {}  # user µs, sys µs, waits a fire
CPU_OF: dict[str, list[tuple[float, float, float]]] = defaultdict(list)  # by loop name


def _started(url: str, n: int, group: bool,
             synchronous: str | None = None) -> tuple[Engine, list[str]]:
    store = SqlStore(url, group_commit=group, synchronous=synchronous)
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


def run_threads(url: str, cases: int, k: int, group: bool,
                synchronous: str | None = None) -> float:
    engine, ids = _started(url, cases, group, synchronous)
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
    t0, use0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    for t in threads:
        t.join()
    rate = sum(counts) / (time.perf_counter() - t0)
    use, n = resource.getrusage(resource.RUSAGE_SELF), max(sum(counts), 1)
    CPU[(url.split(":", 1)[0], k)] = (  # this process's CPU a fire, and its sleeps
        1e6 * (use.ru_utime - use0.ru_utime) / n, 1e6 * (use.ru_stime - use0.ru_stime) / n,
        (use.ru_nvcsw - use0.ru_nvcsw) / n)
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


def run_loop(tree: Path, kind: str, url: str, cases: int, k: int, group: bool,
             name: str, synchronous: str | None = None) -> float:
    """One engine loop on `tree`'s code in a fresh process (`--loop`); its rate, and its
    appends per commit noted in BATCH under the tree's name."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(tree / "plugins")]),
           "FLOWENGINE_BENCH_CODE": str(tree), "FLOWENGINE_DISABLE_PLUGIN_AUTOLOAD": "1"}
    out = subprocess.run(
        [sys.executable, str(HERE / "bench_group_commit.py"), "--loop", kind, url,
         "--cases", str(cases), "--k", str(k), *(["--group"] if group else []),
         *(["--synchronous", synchronous] if synchronous else [])],
        env=env, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    if result["batch"] is not None:
        BATCH[(f"{url.split(':', 1)[0]} {tree.name}{' ' + synchronous if synchronous else ''}",
               k)].append(result["batch"])
    if result["cpu"] is not None:
        CPU_OF[name].append(tuple(result["cpu"]))  # type: ignore[arg-type]
    return float(result["rate"])


def loop_main(args: Any) -> None:
    """`--loop KIND URL`: one loop in this process, its result as a JSON line."""
    kind, url = args.loop
    k = args.k[0]
    cpu = None
    if kind == "processes":
        rate, batch = run_processes(url, args.cases, k), None
    else:
        rate = run_threads(url, args.cases, k, args.group, args.synchronous)
        batches = [v for v in BATCH.values() if v]
        batch = batches[0][0] if batches else None
        cpu = next(iter(CPU.values()))
    import flowengine.store.group as code

    print(json.dumps({"rate": rate, "batch": batch, "cpu": cpu, "code": code.__file__}))
    assert Path(code.__file__).is_relative_to(os.environ.get("FLOWENGINE_BENCH_CODE", "/"))


def variants(folder: Path, cases: int, ks: list[int], pg: Any, processes: bool,
             trees: dict[str, Path] | None = None,
             ceiling: bool = False) -> dict[str, Callable[[], float]]:
    n = len(fires_of(cases))

    def db(name: str) -> str:
        path = folder / f"{name}.db"
        remove_sqlite(path)
        return f"sqlite:///{path}"

    out: dict[str, Callable[[], float]] = {
        "raw peer, 1 thread": lambda: run_raw_peer(Path(db("peer")[len("sqlite:///"):]), n)}
    if trees is not None:  # every engine loop in a fresh process, once per tree
        for k in ks:
            for label, tree in trees.items():
                name = f"K={k} threads, group commit ({label})"
                out[name] = (
                    lambda k=k, tree=tree, name=name: run_loop(  # type: ignore[misc]
                        tree, "threads", db("group"), cases, k, True, name))
            if ceiling:  # no flush at all: what the CPU allows
                name = f"K={k} threads, group commit, synchronous=OFF (this)"
                out[name] = (lambda k=k, name=name: run_loop(  # type: ignore[misc]
                    trees["this"], "threads", db("group"), cases, k, True, name, "off"))
            for label, tree in trees.items() if processes else ():
                name = f"K={k} processes, group commit ({label})"
                out[name] = (
                    lambda k=k, tree=tree, name=name: run_loop(  # type: ignore[misc]
                        tree, "processes", db("procs"), cases, k, True, name))
        return out
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
    parser.add_argument("--cases", type=int, default=2400)  # K processes need seconds: start-up skew
    parser.add_argument("--k", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-processes", action="store_true")
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--base", type=Path, default=None,
                        help="also run every engine loop on this checkout's code")
    parser.add_argument("--loop", nargs=2, metavar=("KIND", "URL"), help=argparse.SUPPRESS)
    parser.add_argument("--group", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--synchronous", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--ceiling", action="store_true",
                        help="with --base: also K threads at synchronous=OFF (no flush)")
    args = parser.parse_args()
    os.environ["FLOWENGINE_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if args.loop:
        loop_main(args)
        return
    trees = None if args.base is None else {"this": HERE.parent, "base": args.base.resolve()}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        info = machine(folder)
        with postgres(durable=True) if not (args.no_pg or trees) else nullcontext() as pg:
            info["postgresql"] = "durable server (fsync on), loopback" if pg else "not run"
            runs = variants(folder, args.cases, args.k, pg, not args.no_processes, trees,
                            args.ceiling)
            results: dict[str, list[float]] = {name: [] for name in runs}
            for r in range(args.rounds):
                names = list(runs)
                if trees is not None and r % 2:  # base first in odd rounds
                    swap = {n: n.replace("(this)", "(base)") for n in names if "(this)" in n}
                    swap = {a: b for a, b in swap.items() if b in runs}
                    swap.update({b: a for a, b in swap.items()})
                    names = [swap.get(n, n) for n in names]
                for name in names:
                    results[name].append(runs[name]())
                    LOADS[name].append(os.getloadavg()[0])
                    print(f"round {r + 1} {name:45s} {results[name][-1]:9,.0f} fires/s "
                          f"(load {os.getloadavg()[0]:.2f})", flush=True)
        info["fsync_us after"] = round(flush_latency_us(folder))
        info["load after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if args.base is not None:
        info["base"] = f"{args.base} ({git_head(args.base)})"
        info["this"] = f"{HERE.parent} ({git_head(HERE.parent)})"
    text = report(results, info, args)
    print(text)
    if not args.no_write:
        write_section("group", text)


def git_head(tree: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
                              check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


LOADS: dict[str, list[float]] = defaultdict(list)  # 1-minute load average after each loop


def report(results: dict[str, list[float]], info: dict[str, Any], args: Any) -> str:
    peer = results["raw peer, 1 thread"]
    base = f" --base {args.base}" if args.base is not None else ""
    lines = ["## Group commit (bench_group_commit.py)", "",
             f"`python bench/bench_group_commit.py --cases {args.cases} --k "
             f"{' '.join(map(str, args.k))} --rounds {args.rounds}{base}`: "
             f"{len(fires_of(args.cases)):,} fires per loop; medians [min–max] of the rounds; "
             "the ratio is the median of per-round ratios to the raw peer loop of the same "
             "round; load: the 1-minute load average after each of its loops, min–max.", "",
             machine_table(info),
             "| loop | fires/s | × raw peer | load |", "|---|---:|---:|---:|"]
    for name, values in results.items():
        ratios = [v / p for v, p in zip(values, peer, strict=True)]
        load = LOADS[name]
        lines.append(f"| {name} | {statistics.median(values):,.0f} [{min(values):,.0f}–"
                     f"{max(values):,.0f}] | {statistics.median(ratios):.2f}× | "
                     f"{min(load):.1f}–{max(load):.1f} |")
    if args.base is not None:
        lines += ["", "This checkout over the base, per round (same K, same round), medians: "
                  + ", ".join(
                      f"{kind} K={k}: {statistics.median(a / b for a, b in zip(this, old, strict=True)):.2f}×"
                      for kind in ("threads", "processes") for k in args.k
                      if (this := results.get(f"K={k} {kind}, group commit (this)"))
                      and (old := results.get(f"K={k} {kind}, group commit (base)")))]
    if CPU_OF:
        lines += ["", "CPU of the loop's process per fire (thread loops; medians of the rounds): "
                  "user µs, system µs, voluntary context switches (a thread going to sleep):",
                  "", "| loop | user µs | system µs | sleeps |", "|---|---:|---:|---:|"]
        for name, cpus in CPU_OF.items():
            lines.append(f"| {name} | " + " | ".join(
                f"{statistics.median(c[i] for c in cpus):.{1 if i == 2 else 0}f}"
                for i in range(3)) + " |")
    lines += ["", "Appends per commit with group commit (threads; the mean of each run, "
              "medians): " + ", ".join(
                  f"{db.replace('sqlite', 'SQLite').replace('postgresql+psycopg', 'PostgreSQL')} "
                  f"K={k}: {statistics.median(v):.1f}" for (db, k), v in BATCH.items())]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
