"""Bring a state store's schema to the newest migration (Alembic, run in code).

The upgrade runs in one write transaction: on SQLite ``BEGIN IMMEDIATE`` takes the write
lock first, on PostgreSQL a transaction-level advisory lock does. A second process opening
the store at the same moment waits, then finds the schema at head and does nothing, so
opening is idempotent and safe to race.

Opening a store that is already at :data:`HEAD_REVISION` reads the version table with one
plain query and never imports Alembic (about a quarter of a second of CPU on every short
command such as `afluente runs`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection

from afluente.errors import StateError
from afluente.state.connect import WRITE_OPTION
from afluente.state.revision import HEAD_REVISION, VERSION_TABLE

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = ["HEAD_REVISION", "VERSION_TABLE", "upgrade"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: Key of the PostgreSQL advisory lock that serialises migrations ("afluente" in ASCII).
_PG_LOCK_KEY = 0x61666C75656E7465


def alembic_config() -> Config:
    """An Alembic config for afluente's migrations, no ``alembic.ini`` needed."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The newest migration this afluente ships, as Alembic reads it from the scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _known_revisions(script: ScriptDirectory) -> set[str]:
    return {revision.revision for revision in script.walk_revisions()}


def current_revision(connection: Connection) -> str | None:
    """The migration the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def stored_revisions(connection: Connection) -> list[str]:
    """The rows of the version table, read without Alembic ([] when it does not exist)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return []
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return [str(row[0]) for row in rows]


def upgrade(engine: Engine) -> None:
    """Migrate the store behind `engine` to head, under a write lock (skipped when at head)."""
    with engine.connect() as connection:
        if stored_revisions(connection) == [HEAD_REVISION]:
            return
    _upgrade_with_alembic(engine)


def _upgrade_with_alembic(engine: Engine) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    config = alembic_config()
    script = ScriptDirectory.from_config(config)
    with engine.connect() as connection:
        current = current_revision(connection)
    if current == script.get_current_head():
        return
    if current is not None and current not in _known_revisions(script):
        raise StateError(
            f"the state store is at schema revision {current!r}, which this afluente does not know",
            hint="a newer afluente migrated it: upgrade afluente (pip install -U afluente)",
        )
    with engine.execution_options(**{WRITE_OPTION: True}).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
