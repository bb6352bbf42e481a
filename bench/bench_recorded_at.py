"""Did a fire get slower when events began to carry `recorded_at` (schema revision 0004)?

    python bench/bench_recorded_at.py TREE [TREE …] [--cases 200] [--rounds 5]

Each TREE is a source tree of flowengine (this one, and e.g. `git archive <commit>` of the
commit before migration 0004, unpacked). Every round runs `bench_persist.run_engine` of
each tree in its own child process, on a fresh SQLite file (synchronous FULL and NORMAL),
in an order rotated each round, so the versions share the machine's load; the medians of
fires/s and the per-round ratios to the first tree are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import sys
tree, url, cases = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path[:0] = [tree + "/bench", tree, tree + "/plugins"]
import flowengine
assert flowengine.__file__.startswith(tree), flowengine.__file__
from bench_persist import run_engine
print(run_engine(url, cases))
"""


def one(tree: Path, url: str, cases: int) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", CHILD, str(tree), url, str(cases)],
                          capture_output=True, text=True, env=env, check=True, cwd=tree)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trees", nargs="+", type=Path)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    trees = [t.resolve() for t in args.trees]
    modes = {"FULL": "", "NORMAL": "?synchronous=normal"}
    results: dict[tuple[str, Path], list[float]] = {(m, t): [] for m in modes for t in trees}
    with tempfile.TemporaryDirectory() as folder:
        for r in range(args.rounds):
            for mode, query in modes.items():
                order = trees[r % len(trees):] + trees[:r % len(trees)]
                for i, tree in enumerate(order):
                    path = Path(folder) / f"r{r}-{mode}-{i}.db"
                    value = one(tree, f"sqlite:///{path}{query}", args.cases)
                    results[(mode, tree)].append(value)
                    print(f"round {r + 1} {mode:6s} {tree.name:12s} {value:9,.0f} fires/s",
                          flush=True)
    print("\n| tree | sync | fires/s median [min–max] | ratio to first (median of rounds) |")
    print("|---|---|---:|---:|")
    for mode in modes:
        base = results[(mode, trees[0])]
        for tree in trees:
            values = results[(mode, tree)]
            ratio = statistics.median(v / b for v, b in zip(values, base, strict=True))
            print(f"| {tree.name} | {mode} | {statistics.median(values):,.0f} "
                  f"[{min(values):,.0f}–{max(values):,.0f}] | {ratio:.3f} |")


if __name__ == "__main__":
    main()
