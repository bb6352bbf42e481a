"""Shared by bench_persist.py and bench_tick.py: the machine's description, the disk's flush
latency, a throwaway PostgreSQL server, and writing one section of RESULTS-store.md.

Why measure the flush: a durable commit costs one flush (WAL + synchronous=FULL), so every
per-commit figure scales with it; shared/peer-bench measured ~115 µs, and a ratio between
two loops of the same run is only comparable across machines next to that number.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from machine_info import cpu_model  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "RESULTS-store.md"
# the code measured: this checkout's, or the one FLOWENGINE_BENCH_CODE names (a bench's
# `--base` runs loops on another checkout's code with this checkout's bench scripts)
sys.path.insert(0, os.environ.get("FLOWENGINE_BENCH_CODE", str(ROOT)))


def machine(data_dir: Path) -> dict[str, Any]:
    cpu = cpu_model()
    import sqlalchemy

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{cpu}, {os.cpu_count()} CPUs", "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "sqlalchemy": sqlalchemy.__version__,
        "platform": platform.platform(), "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "fsync_us": round(flush_latency_us(data_dir)),
    }


def flush_latency_us(folder: Path, n: int = 200) -> float:
    """Median of `n` small write + fdatasync on `folder`'s disk."""
    path = folder / "flush.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    times = []
    try:
        for _ in range(n):
            t = time.perf_counter()
            os.write(fd, b"x" * 100)
            os.fdatasync(fd)
            times.append(time.perf_counter() - t)
    finally:
        os.close(fd)
        path.unlink()
    return statistics.median(times) * 1e6


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def postgres(durable: bool = True) -> Iterator[Any]:
    """A throwaway server (tests/integration/conftest.py's PgServer), or None when the
    binaries are missing. `durable`: fsync on, as a production server runs."""
    spec = importlib.util.spec_from_file_location(
        "flowengine_pg_fixture", ROOT / "tests" / "integration" / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    bindir = module.find_pg_bin()
    if bindir is None:
        yield None
        return
    server = module.PgServer(bindir, durable=durable)
    try:
        yield server
    finally:
        server.stop()


def median_range(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} [{min(values):,.0f}–{max(values):,.0f}]"


def write_section(name: str, body: str) -> None:
    """Replace the `name` section of RESULTS-store.md (kept between marker comments)."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else _HEADER
    block = f"{begin}\n{body.rstrip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def machine_table(info: dict[str, Any]) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in info.items())
    return f"| item | value |\n|---|---|\n{rows}\n"


_HEADER = """# Store benchmarks

Written by `python bench/bench_persist.py` and `python bench/bench_tick.py` (each replaces
its own section). Absolute numbers on shared machines drift; the ratios compare loops run
back to back in the same round, which is what the targets in shared/peer-bench pin.
"""
