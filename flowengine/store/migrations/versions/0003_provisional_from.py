"""Cases whose deadlines were counted over a provisional calendar year are findable.

A due date counted over a year without the State Council's holiday arrangement is marked
provisional and must be recounted when the year's official data is loaded (`flowengine
calendar reconcile`, and every `tick`). `provisional_from` holds the first such year of
the case's open deadlines (NULL otherwise: nearly every case), under a partial index, so
finding them costs an index probe, not a scan of every open case. Existing rows are NULL:
nothing written before this revision was provisional (the engine refused such years).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ALTER TABLE … ADD COLUMN on both backends: no table rebuild, rows untouched
    op.add_column("cases", sa.Column("provisional_from", sa.Integer(), nullable=True))
    op.create_index("ix_cases_provisional", "cases", ["process_id", "provisional_from"],
                    sqlite_where=sa.text("provisional_from IS NOT NULL"),
                    postgresql_where=sa.text("provisional_from IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_cases_provisional", table_name="cases")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite >= 3.35 drops a column in place; a batch rebuild would DROP TABLE cases,
        # which the events' foreign keys refuse
        op.execute("ALTER TABLE cases DROP COLUMN provisional_from")
    else:
        op.drop_column("cases", "provisional_from")
