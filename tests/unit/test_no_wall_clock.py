"""Only flowengine/clock.py may read the wall clock: replay and simulation must give the
same answer every time, so every other module takes time from a Clock."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "flowengine"
WALL_CLOCK = re.compile(
    r"\b(datetime\.now|datetime\.utcnow|datetime\.today|date\.today|time\.time|time\.time_ns|"
    r"time\.localtime|time\.gmtime|find_workday)\s*\("
)


def offenders(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "clock.py" and path.parent == root:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if WALL_CLOCK.search(code):
                found.append(f"{path.relative_to(root.parent)}:{n}: {line.strip()}")
    return found


def test_only_clock_py_reads_the_wall_clock() -> None:
    assert offenders(PACKAGE) == []


def test_the_check_finds_a_wall_clock_read(tmp_path: Path) -> None:
    pkg = tmp_path / "flowengine"
    pkg.mkdir()
    (pkg / "sneaky.py").write_text("from datetime import datetime\nstamp = datetime.now()\n")
    assert offenders(pkg) == ["flowengine/sneaky.py:2: stamp = datetime.now()"]
