"""Start-up time of the command line against `python -c "import click, sqlalchemy"`.

    python bench/bench_cli.py [--reps 15] [--base DIR]

Why that baseline: a command that reads the database cannot start faster than Python with
click and SQLAlchemy imported; anything above it is flowengine's own import cost. Measured
as wall time of a fresh interpreter, the three commands interleaved in every repetition
(the machine is shared: side by side, medians), on a small SQLite database holding one
case (made before timing). Target: `flowengine --help` and `flowengine case show` within
1.5x of the baseline. `--base DIR`: also time the two commands of another checkout (e.g. a
detached worktree of the base commit) in the same repetitions, so before and after share
one baseline and one machine state.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET = 1.5


def _env(cwd: Path, root: Path = ROOT) -> dict[str, str]:
    """As an installed flowengine runs: with compiled bytecode (kept under `cwd`, written by
    the untimed first run, so the repository gets no __pycache__); `root`: the checkout."""
    path = os.pathsep.join([str(root), str(root / "plugins"), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "FLOWENGINE_ACTOR": "王芳",
           "FLOWENGINE_ROLE": "clerk", "PYTHONPYCACHEPREFIX": str(cwd / "pycache" / root.name)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(argv: list[str], cwd: Path, root: Path = ROOT) -> tuple[float, str]:
    t = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=_env(cwd, root), capture_output=True, text=True,
                          check=True)
    return time.perf_counter() - t, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--base", type=Path, default=None,
                        help="another checkout whose commands are timed alongside")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = f"sqlite:///{work / 'cli.db'}"
        fe = [sys.executable, "-m", "flowengine"]
        _, out = _run(fe + ["case", "start", "standard_case", "--db", db, "--processes",
                            str(ROOT / "processes"), "--data",
                            '{"petitioner": "张三", "subject": "路灯不亮"}'], work)
        case_id = out.split()[0]
        show = fe + ["case", "show", case_id, "--db", db]
        commands = {
            "python -c 'import click, sqlalchemy'": ([sys.executable, "-c",
                                                     "import click, sqlalchemy"], ROOT),
            "flowengine --help": (fe + ["--help"], ROOT),
            "flowengine case show": (show, ROOT),
        }
        if args.base is not None:
            other = args.base.resolve()
            commands["flowengine --help (base)"] = (fe + ["--help"], other)
            commands["flowengine case show (base)"] = (show, other)
        for argv, root in commands.values():  # untimed: writes the bytecode
            _run(argv, work, root)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.reps):
            for name, (argv, root) in commands.items():
                times[name].append(_run(argv, work, root)[0])
    baseline = times["python -c 'import click, sqlalchemy'"]
    base = statistics.median(baseline)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
          f"{args.reps} repetitions, medians (min-max); per-repetition ratio: the median of "
          "each repetition's time over the baseline's in that repetition")
    print("| command | median ms | min-max ms | ratio | per-repetition ratio | target |")
    print("|---|---:|---:|---:|---:|---|")
    for name, values in times.items():
        med = statistics.median(values)
        paired = statistics.median(v / b for v, b in zip(values, baseline, strict=True))
        target = "baseline" if values is baseline else f"≤ {TARGET}×"
        print(f"| `{name}` | {med * 1e3:.0f} | {min(values) * 1e3:.0f}–{max(values) * 1e3:.0f}"
              f" | {med / base:.2f}× | {paired:.2f}× | {target} |")


if __name__ == "__main__":
    main()
