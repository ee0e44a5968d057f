"""Engines for the state store: URL handling, SQLite set-up, password masking.

SQLite runs in WAL mode (readers never block the writer) with a busy timeout, and every
write transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock up front, so two
processes writing at once queue on the busy timeout instead of failing half-way through a
read-then-write transaction. PostgreSQL needs none of this.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

#: Seconds a SQLite connection waits for another process's write lock before failing.
SQLITE_BUSY_TIMEOUT_S = 30.0

#: Execution option that marks a connection's transactions as writes (SQLite: IMMEDIATE).
WRITE_OPTION = "afluente_write"


def default_url(project_dir: Path | str) -> str:
    """The default store of a project: ``sqlite:///<project>/.afluente/state.db``."""
    return f"sqlite:///{Path(project_dir).resolve() / '.afluente' / 'state.db'}"


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced by ``***``, safe to show and log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: show only the scheme, never the rest
        return str(url).split("://", 1)[0] + "://***"


def parse_url(url: str) -> URL:
    """The store URL; a bare ``postgresql://`` means psycopg 3, the driver afluente ships."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_state_engine(url: URL) -> Engine:
    """An engine configured for the store; creates a SQLite file's folder."""
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if is_memory_sqlite(url):
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(str(url.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    write = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
