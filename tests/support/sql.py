"""Plain SQL against a test database, for tampering behind the engine's back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, text


def run_sql(url: str, sql: str, **params: Any) -> list[Any]:
    """Run one statement in its own transaction: its rows, or `[rowcount]` for a write."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return list(result) if result.returns_rows else [result.rowcount]
    finally:
        engine.dispose()
