from __future__ import annotations

import pytest

from flowengine import Engine, SimulatedClock
from tests.support.engine import ROOT, at


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(at("2026-08-03T09:00:00"))


@pytest.fixture
def engine(clock: SimulatedClock) -> Engine:
    return Engine(processes=[ROOT / "processes"], clock=clock)
