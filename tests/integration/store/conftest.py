"""Store tests run twice: on a real SQLite file and on a real PostgreSQL server (`pg_url`,
tests/integration/conftest.py). `store` is an open `SqlStore` with the test definition saved."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flowengine.store.sql import SqlStore
from tests.support.store import DEFINITION, DIGEST, DUPLICATE_KEY, PROCESS


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[SqlStore]:
    s = SqlStore(db_url)
    s.save_definition(DIGEST, PROCESS, "1", DEFINITION, DUPLICATE_KEY)
    yield s
    s.close()
