"""The SQL store's partial indexes keep their WHERE clause on both databases although the
PostgreSQL one is attached only when PostgreSQL's options are asked for (store/schema.py,
`PartialIndex`: defining the tables must not import SQLAlchemy's PostgreSQL dialect)."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex

from flowengine.store.schema import metadata

# index -> (its WHERE on SQLite, on PostgreSQL), as the migrations create them
WHERE = {
    "ix_cases_next_timer_at": ("next_timer_at IS NOT NULL", "next_timer_at IS NOT NULL"),
    "ix_cases_open_dup": ("final = 0 AND dup_key IS NOT NULL", "NOT final AND dup_key IS NOT NULL"),
    "ix_cases_finished_dup": ("final = 1 AND dup_key IS NOT NULL", "final AND dup_key IS NOT NULL"),
    "ix_cases_overdue": ("overdue = 1", "overdue"),
    "ix_cases_provisional": ("provisional_from IS NOT NULL", "provisional_from IS NOT NULL"),
    "ux_events_log_index": ("log_index IS NOT NULL", "log_index IS NOT NULL"),
}


def test_each_partial_index_has_its_where_on_sqlite_and_on_postgresql() -> None:
    indexes = {str(ix.name): ix for table in metadata.tables.values() for ix in table.indexes}
    partial = {name for name, ix in indexes.items()
               if ix.dialect_options["sqlite"]["where"] is not None}
    assert partial == set(WHERE)
    for name, (on_sqlite, on_postgresql) in WHERE.items():
        ix = indexes[name]
        assert str(CreateIndex(ix).compile(dialect=sqlite.dialect())).endswith(
            f" WHERE {on_sqlite}")
        assert str(CreateIndex(ix).compile(dialect=postgresql.dialect())).endswith(
            f" WHERE {on_postgresql}")
        assert str(ix.dialect_kwargs["postgresql_where"]) == on_postgresql
