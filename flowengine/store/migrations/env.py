"""Alembic environment for flowengine's own tables.

`flowengine db upgrade` (and `SqlStore` on a fresh database) run Alembic programmatically and
hand it an open connection in `config.attributes["connection"]`; the `alembic` command line
works too (`alembic -c flowengine/store/migrations/alembic.ini -x db=URL upgrade head`).
The version table is `flowengine_schema_version`, so a host database that runs its own Alembic
history beside ours keeps its `alembic_version` untouched.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from flowengine.store.schema import metadata

VERSION_TABLE = "flowengine_schema_version"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("db")
    return url or context.config.get_main_option("sqlalchemy.url") or "sqlite:///flowengine.db"


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(_url())
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
