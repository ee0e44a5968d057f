"""Alembic environment: runs on the connection :func:`afluente.state.migrate.upgrade` shares.

afluente never runs Alembic from a command line or an ``alembic.ini``; the caller puts an
open SQLAlchemy connection (inside a transaction) in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from afluente.state.migrate import VERSION_TABLE
from afluente.state.schema import metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "afluente state migrations run through afluente.state.migrate.upgrade(), "
        "which passes an open connection"
    )
run_migrations(connection)
