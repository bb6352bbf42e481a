"""Initial schema: definitions, cases (projection + next timer), events, outbox.

A frozen copy of `flowengine/store/schema.py` as it was at this revision (a migration must
not change when the live schema does); `tests/integration/store/test_migrations.py` checks
that upgrading to head gives exactly the live schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# instants: timestamptz on PostgreSQL, fixed-width UTC ISO text on SQLite
INSTANT = sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def upgrade() -> None:
    op.create_table(
        "definitions",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("process_id", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("duplicate_key", sa.Text, nullable=True),
        sa.Column("loaded_at", INSTANT, nullable=False,
                  server_default=sa.func.current_timestamp()),
    )
    _cases()
    _events()
    _outbox()


def _cases() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("process_id", sa.String(200), nullable=False),
        sa.Column("digest", sa.String(64), sa.ForeignKey("definitions.digest"), nullable=False),
        sa.Column("state", sa.String(200), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("deadlines", sa.Text, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("overdue", sa.Boolean, nullable=False),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("final", sa.Boolean, nullable=False),
        sa.Column("duplicate_of", sa.String(64), nullable=True),
        sa.Column("dup_key", sa.String(64), nullable=True),
        sa.Column("owner", sa.Text, nullable=True),
        sa.Column("owner_role", sa.String(200), nullable=True),
        sa.Column("created_at", INSTANT, nullable=True),
        sa.Column("updated_at", INSTANT, nullable=True),
        sa.Column("next_timer_at", INSTANT, nullable=True),
        sa.Column("claimed_until", INSTANT, nullable=True),
    )
    op.create_index("ix_cases_next_timer_at", "cases", ["next_timer_at"])
    op.create_index("ix_cases_process", "cases", ["process_id"])
    op.create_index("ix_cases_open_dup", "cases", ["dup_key"],
                    sqlite_where=sa.text("final = 0"), postgresql_where=sa.text("NOT final"))
    op.create_index("ix_cases_overdue", "cases", ["overdue"],
                    sqlite_where=sa.text("overdue = 1"), postgresql_where=sa.text("overdue"))


def _events() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", INSTANT, nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("trigger", sa.String(200), nullable=True),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("dest", sa.String(200), nullable=True),
        sa.Column("actor_name", sa.Text, nullable=False),
        sa.Column("actor_role", sa.String(200), nullable=True),
        sa.Column("process_id", sa.String(200), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("case_id", "seq", name="uq_events_case_seq"),
    )


def _outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(300), primary_key=True),
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", INSTANT, nullable=True),
        sa.Column("due_at", INSTANT, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("delivered_at", INSTANT, nullable=True),
    )
    op.create_index("ix_outbox_status_due", "outbox", ["status", "due_at"])
    op.create_index("ix_outbox_case", "outbox", ["case_id"])


def downgrade() -> None:
    for table in ("outbox", "events", "cases", "definitions"):
        op.drop_table(table)

