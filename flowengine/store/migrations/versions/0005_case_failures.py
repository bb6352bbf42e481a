"""Failures of a case's timers are kept in the database; finished duplicates are indexed.

`case_failures` holds the last failure of each case whose timers (tick, worker) or recount
(reconcile) failed, with its attempts and next attempt, so the back-off goes on across
separate runs and processes; the engine deletes the row when the case next succeeds.
`ix_cases_finished_dup` (partial: final cases with a duplicate key) makes the look-back for
a repeat of a finished petition an index range instead of a read of the process's recently
finished cases.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_INSTANT = sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def upgrade() -> None:
    op.create_table(
        "case_failures",
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("operation", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("failed_at", _INSTANT, nullable=False),
        sa.Column("next_attempt_at", _INSTANT, nullable=False),
    )
    op.create_index("ix_cases_finished_dup", "cases", ["dup_key", "updated_at"],
                    sqlite_where=sa.text("final = 1 AND dup_key IS NOT NULL"),
                    postgresql_where=sa.text("final AND dup_key IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_cases_finished_dup", table_name="cases")
    op.drop_table("case_failures")
