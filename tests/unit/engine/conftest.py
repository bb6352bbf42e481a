from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from engine_support import ROOT, at  # noqa: E402

from flowengine import Engine, SimulatedClock  # noqa: E402


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(at("2026-08-03T09:00:00"))


@pytest.fixture
def engine(clock: SimulatedClock) -> Engine:
    return Engine(processes=[ROOT / "processes"], clock=clock)
