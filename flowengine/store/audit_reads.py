"""The SQL store's side of `AuditReads` and `TransparencyLog` (store/base.py): the rows the
audit judges, read as stored.

Why raw values: the audit must name a tampered row (a text `seq`, a garbage timestamp, a
body that is not JSON) as a broken case, so every column it judges is read without the
type processing that could raise while the rows are fetched (`type_coerce(…, NullType)`);
converting and judging is the audit's business. Why here and not in `flowengine.audit`:
the audit depends on the protocols only, and every SQL statement lives in `store/`.

`SqlAuditReads` is a mixin of `SqlStore`: it needs only the store's `engine`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, exists, func, literal_column, select, text, type_coerce
from sqlalchemy.exc import DataError
from sqlalchemy.types import NullType

from ..errors import RecordUnreadable
from .base import (
    EVENT_COLUMNS,
    DefinitionRow,
    EventHeadRow,
    EventPlace,
    LogRow,
    RecordedRow,
    StoredEventRow,
    StoredOutboxEntry,
)
from .schema import RECORDED_AT, cases, definitions, events, outbox

_CHUNK = 500  # ids per IN list
_PG_LOCK = 0x666C6F67  # "flog": pg_advisory_xact_lock key of the log's sequencer


def _raw(column: Any) -> Any:
    """The column's stored value, unconverted (a garbage value must not raise while the
    rows are fetched)."""
    return type_coerce(column, NullType()).label(column.name)


def _unconvertible(exc: BaseException) -> bool:
    """A stored value the driver refuses to convert (PostgreSQL's 'infinity' timestamp),
    as opposed to a database that cannot be reached."""
    orig = getattr(exc, "orig", None) or exc
    return isinstance(exc, DataError) or type(orig).__name__ == "DataError"


class SqlAuditReads:
    engine: Engine

    # ------------------------------------------------------------------ AuditReads
    def stored_event_rows(self, case_id: str | None = None,
                          batch: int = 2000) -> Iterator[StoredEventRow]:
        stmt = select(events.c.case_id, events.c.seq, events.c.body, events.c.hash,
                      *(events.c[name] for name in EVENT_COLUMNS))
        if case_id is not None:
            stmt = stmt.where(events.c.case_id == case_id)
        stmt = stmt.order_by(events.c.case_id, events.c.seq)
        with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":  # the DB-API cursor streams; skip the Result
                # layer; the body comes as its UTF-8 bytes, which orjson and sha256 take
                where = " WHERE case_id = ?" if case_id is not None else ""
                sql = (f"SELECT case_id, seq, CAST(body AS BLOB), hash, "
                       f"{', '.join(EVENT_COLUMNS)} FROM {events.name}{where} "
                       "ORDER BY case_id, seq")
                cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                rows: Any = cursor.execute(sql, (case_id,) if case_id is not None else ())
            else:  # a server-side cursor, `batch` rows at a time
                rows = conn.execution_options(yield_per=batch).execute(stmt)
            make = StoredEventRow._make  # a row's columns after the hash, as one slice
            for row in rows:
                yield make((row[0], row[1], row[2], row[3], row[4:]))

    def case_record_rows(self, case_ids: Sequence[str]) -> list[dict[str, Any]]:
        stmt = select(*(_raw(c) for c in cases.c)).where(cases.c.id.in_(list(case_ids)))
        try:
            with self.engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(stmt)]
        except Exception as exc:
            if not _unconvertible(exc):
                raise
            why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RecordUnreadable(None, why) from exc

    def cases_without_events(self) -> Iterator[str]:
        stmt = select(cases.c.id).where(~exists().where(events.c.case_id == cases.c.id))
        with self.engine.connect() as conn:
            yield from conn.execute(stmt).scalars()

    def definition_rows(self) -> list[DefinitionRow]:
        stmt = select(_raw(definitions.c.digest), _raw(definitions.c.text)
                      ).order_by(definitions.c.digest)
        with self.engine.connect() as conn:
            return [DefinitionRow(*r) for r in conn.execute(stmt)]

    def definition_digests(self, process_id: str) -> list[str]:
        stmt = (select(definitions.c.digest).where(definitions.c.process_id == process_id)
                .order_by(definitions.c.digest))
        with self.engine.connect() as conn:
            return [str(d) for d in conn.execute(stmt).scalars()]

    def outbox_entries(self, case_ids: Sequence[str]) -> Iterator[StoredOutboxEntry]:
        names = ("id", "seq", "channel", "created_at", "payload")
        stmt = (select(outbox.c.case_id, *(_raw(outbox.c[n]) for n in names))
                .where(outbox.c.case_id.in_(list(case_ids)))
                .order_by(outbox.c.case_id, outbox.c.id))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        for row in rows:
            yield StoredOutboxEntry(*row)

    def outbox_stream(self) -> Iterator[StoredOutboxEntry]:
        names = ("id", "seq", "channel", "created_at", "payload")
        stmt = (select(outbox.c.case_id, *(_raw(outbox.c[n]) for n in names))
                .order_by(outbox.c.case_id, outbox.c.seq, outbox.c.id))
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=5000).execute(stmt):
                yield StoredOutboxEntry(*row)

    def recorded_times(self, case_id: str) -> Iterator[tuple[Any, Any]]:
        stmt = (select(events.c.seq, _raw(events.c.recorded_at))
                .where(events.c.case_id == case_id).order_by(events.c.seq))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        yield from ((seq, recorded) for seq, recorded in rows)

    def backdating_rows(self) -> Iterator[RecordedRow]:
        stmt = (select(events.c.case_id, events.c.seq, _raw(events.c.at),
                       _raw(events.c.recorded_at))
                .where(events.c.recorded_at.is_not(None), events.c.type != "timer")
                .order_by(events.c.case_id, events.c.seq))
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=5000).execute(stmt):
                yield RecordedRow(*row)

    def event_heads(self, with_body: bool = False) -> Iterator[EventHeadRow]:
        names = ("case_id", "seq", "hash", "log_index",
                 *(("body", "recorded_at") if with_body else ()))
        stmt = (select(*(_raw(events.c[n]) for n in names))
                .order_by(events.c.case_id, events.c.seq))
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=2000).execute(stmt):
                yield EventHeadRow(*row)

    def event_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(events)).scalar_one())

    def log_places(self, case_ids: Sequence[str]) -> Iterator[EventPlace]:
        ids = list(dict.fromkeys(case_ids))
        for i in range(0, len(ids), _CHUNK):
            stmt = (select(events.c.case_id, _raw(events.c.seq), _raw(events.c.log_index))
                    .where(events.c.case_id.in_(ids[i:i + _CHUNK]))
                    .order_by(events.c.case_id, events.c.seq))
            with self.engine.connect() as conn:
                rows = conn.execute(stmt).all()
            yield from (EventPlace(*row) for row in rows)

    def pinning_events(self, digests: Sequence[str]) -> Iterator[EventPlace]:
        stmt = (select(events.c.case_id, _raw(events.c.seq), _raw(events.c.log_index),
                       events.c.digest)
                .where(events.c.seq == 1, events.c.digest.in_(list(digests)))
                .order_by(events.c.case_id))
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=2000).execute(stmt):
                yield EventPlace(*row)

    # ------------------------------------------------------------------ TransparencyLog
    def sequence_log(self) -> int:
        engine = self.engine.execution_options(flowengine_begin="IMMEDIATE")
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
            base = conn.execute(select(func.coalesce(func.max(events.c.log_index) + 1, 0))
                                .where(events.c.log_index.is_not(None))).scalar_one()
            ranked = ("SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn FROM events "
                      "WHERE log_index IS NULL")
            conn.execute(text(f"UPDATE events SET log_index = :base + s.rn FROM ({ranked}) "
                              "AS s WHERE events.id = s.id"), {"base": int(base)})
            size = conn.execute(select(func.count()).select_from(events)
                                .where(events.c.log_index.is_not(None))).scalar_one()
        return int(size)

    def log_rows(self, below: int | None = None, batch: int = 5000) -> Iterator[LogRow]:
        stmt = select(*(_raw(c) for c in (events.c.log_index, events.c.case_id, events.c.seq,
                                           events.c.recorded_at, events.c.hash))
                      ).where(events.c.log_index.is_not(None))
        if below is not None:
            stmt = stmt.where(events.c.log_index < below)
        stmt = stmt.order_by(events.c.log_index)
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=batch).execute(stmt):
                yield LogRow(*row)

    def database_time(self) -> datetime:
        with self.engine.connect() as conn:
            value: Any = conn.execute(select(literal_column(
                RECORDED_AT[self.engine.dialect.name]))).scalar_one()
        when: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return when


__all__ = ["SqlAuditReads"]
