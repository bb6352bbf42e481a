"""Events carry the database's own time of writing and a place in the transparency log.

`recorded_at` is set by the INSERT from the database's clock, beside the instant the caller
claims (`at`), so a backdated event can be told (docs/audit.md); rows written before this
revision keep NULL: their recorded time is unknown, and nothing is invented for them.
`log_index` is given by the sequencer of `flowengine audit checkpoint` (NULL until then),
under a partial unique index that an append does not touch.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_INSTANT = sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def upgrade() -> None:
    # ALTER TABLE … ADD COLUMN on both backends: no table rebuild, rows untouched (NULL)
    op.add_column("events", sa.Column("recorded_at", _INSTANT, nullable=True))
    op.add_column("events", sa.Column("log_index", sa.BigInteger(), nullable=True))
    op.create_index("ux_events_log_index", "events", ["log_index"], unique=True,
                    sqlite_where=sa.text("log_index IS NOT NULL"),
                    postgresql_where=sa.text("log_index IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ux_events_log_index", table_name="events")
    for column in ("log_index", "recorded_at"):
        if op.get_bind().dialect.name == "sqlite":  # in place (see 0003)
            op.execute(f"ALTER TABLE events DROP COLUMN {column}")
        else:
            op.drop_column("events", column)
