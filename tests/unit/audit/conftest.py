from __future__ import annotations

import pytest

from flowengine import Engine, SimulatedClock

from .support import new_engine


@pytest.fixture
def engine_clock() -> tuple[Engine, SimulatedClock]:
    return new_engine()
