"""Where cases, events, timers, outbox rows and definition texts live.

`base` is the `Store` protocol the engine talks to (required methods, and optional
capabilities as protocols of their own, among them `AuditReads` and `TransparencyLog`,
what the audit reads); `memory` and `sql` are the two stores. The SQL store's parts:
`schema` (tables), `sqlrows` (prepared statements and rows), `codec` (case rows and
instants, pure), `audit_reads` (the rows the audit reads, as stored), `connect`,
`checkout` and `access` (connections, read-only access), `translate` and `errors`
(database errors as flowengine errors), `migrations/` (Alembic). Nothing is imported
here, so the SQL stack loads only when a SQL store is used.
"""

__all__ = ["access", "audit_reads", "base", "checkout", "codec", "connect", "errors", "memory",
           "schema", "sql", "sqlrows", "translate"]
