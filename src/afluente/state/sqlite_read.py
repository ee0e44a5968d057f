"""Reading runs from a healthy SQLite state store with the standard library alone.

`afluente runs` only reads, and opening the store through SQLAlchemy costs more CPU than
the rest of the command (its import alone is 0.2-0.3 s). This module reads the same tables
with the `sqlite3` module, read-only, in one transaction, and answers only when its answer
is the one :class:`~afluente.state.StateStore` would give. Whenever it cannot be sure of
that it answers None and the caller opens the store as usual, so every message about a
missing, emptied, damaged, old or unreachable store, an unknown or ambiguous run id, and the
reaping of dead runs stay where they are (:mod:`afluente.state.store`,
:mod:`afluente.state.sqlite_file`, :mod:`afluente.state.locks`). None is returned for:

* a URL that is not a plain ``sqlite:///<file>`` (PostgreSQL, memory, query parameters);
* a file that is missing (the store creates it) or empty (the store refuses it);
* a schema that is not at :data:`~afluente.state.revision.HEAD_REVISION` (a migration);
* a ``running`` run whose process is dead (the store marks it failed first);
* a run id that is not exactly one run's id or the prefix of exactly one;
* any SQLite error (a damaged file: the store reports it with its repair hint).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from afluente.state.liveness import process_alive
from afluente.state.records import ModelRunRecord, RunRecord
from afluente.state.revision import HEAD_REVISION, VERSION_TABLE
from afluente.state.rows import execution_order, model_run_record, run_record

_PREFIX = "sqlite:///"
_RUN_COLUMNS = "run_id, project, status, selector, args, started_at, finished_at, error"
_MODEL_COLUMNS = (
    "run_id, model, status, started_at, finished_at, duration_s, rows_written, "
    "versions_read, version_written, fingerprint, error, attempts"
)
_TIMES = ("started_at", "finished_at")
_JSON = ("args", "versions_read")
_RECENT = f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY started_at DESC, run_id DESC LIMIT ?"
_BY_ID = f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?"
_BY_PREFIX = f"SELECT {_RUN_COLUMNS} FROM runs WHERE substr(run_id, 1, ?) = ? LIMIT 2"


def read_recent_runs(url: str, limit: int) -> list[RunRecord] | None:
    """The most recent runs, newest first, each with its model runs (as
    `StateStore.list_runs`); None when only the store can answer."""
    with _reading(url) as conn:
        if conn is None:
            return None
        rows = _dicts(conn.execute(_RECENT, (max(limit, 0),)))
        return _with_models(conn, rows)
    return None  # the store raised inside `_reading`: the caller opens it


def read_run(url: str, run_id: str) -> RunRecord | None:
    """One run by id or unique id prefix, with its model runs (as `StateStore.get_run`);
    None when only the store can answer, including every error case."""
    if not run_id:
        return None
    with _reading(url) as conn:
        if conn is None:
            return None
        rows = _dicts(conn.execute(_BY_ID, (run_id,)))
        if not rows:
            rows = _dicts(conn.execute(_BY_PREFIX, (len(run_id), run_id)))
        return _with_models(conn, rows)[0] if len(rows) == 1 else None
    return None


def store_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///<path>`` URL that exists and is not empty."""
    if not url.startswith(_PREFIX):
        return None
    location = url[len(_PREFIX):]
    if not location or location == ":memory:" or any(c in location for c in "?%#"):
        return None
    path = Path(location).expanduser()
    try:
        return path if path.is_file() and path.stat().st_size > 0 else None
    except OSError:
        return None


@contextmanager
def _reading(url: str) -> Iterator[sqlite3.Connection | None]:
    """A read-only connection in one read transaction, or None when the store must answer
    (see the module's docstring); a SQLite error inside the block also means None."""
    path = store_file(url)
    conn = _open(path) if path is not None else None
    try:
        yield conn
    except sqlite3.Error:
        return
    finally:
        if conn is not None:
            conn.close()


def _open(path: Path) -> sqlite3.Connection | None:
    """A read-only connection with its read transaction begun, when the store is current."""
    conn = None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                               isolation_level=None, timeout=30.0)
        conn.execute("BEGIN")
        if _current(conn):
            return conn
    except sqlite3.Error:
        pass
    if conn is not None:
        conn.close()
    return None


def _current(conn: sqlite3.Connection) -> bool:
    """At the newest schema, and no run left `running` by a dead process."""
    versions = [row[0] for row in conn.execute(f"SELECT version_num FROM {VERSION_TABLE}")]
    if versions != [HEAD_REVISION]:
        return False
    running = conn.execute("SELECT host, pid, heartbeat_at FROM runs WHERE status = 'running'")
    return all(process_alive(host, pid, _utc(beat)) for host, pid, beat in running)


def _with_models(conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> list[RunRecord]:
    models = _model_runs(conn, [row["run_id"] for row in rows])
    return [run_record(row, models.get(row["run_id"], ())) for row in rows]


def _model_runs(
    conn: sqlite3.Connection, run_ids: Sequence[str]
) -> dict[str, list[ModelRunRecord]]:
    grouped: dict[str, list[ModelRunRecord]] = {}
    for start in range(0, len(run_ids), 500):  # under SQLite's limit of bound parameters
        chunk = run_ids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        query = f"SELECT {_MODEL_COLUMNS} FROM model_runs WHERE run_id IN ({marks})"
        for row in _dicts(conn.execute(query, chunk)):
            grouped.setdefault(row["run_id"], []).append(model_run_record(row))
    for models in grouped.values():
        models.sort(key=execution_order)
    return grouped


def _dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    """Rows as the store's column types read them: aware UTC datetimes, parsed JSON."""
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, values, strict=True)) for values in cursor]
    for row in rows:
        for name in _TIMES:
            if name in row:
                row[name] = _utc(row[name])
        for name in _JSON:
            if name in row and row[name] is not None:
                row[name] = json.loads(row[name])
    return rows


def _utc(value: str | None) -> datetime | None:
    """A timestamp as SQLAlchemy stores it on SQLite (naive, UTC), made aware."""
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)
