"""The DuckDB workspace of the incremental kinds (the `Workspace` protocol).

An engine's workspace runs on a cursor of the engine's own database: the scratch tables
share its memory limit, threads and spill folder (no second database, no copy of the data
between the two), while the cursor's temp tables and registrations stay its own, so a
model's result can stream out of the engine's connection into the workspace. Scratch tables
are DuckDB temp tables, which DuckDB spills to disk under memory pressure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import duckdb

from afluente.engines.duckdb_connection import duckdb_connect, relation_reader
from afluente.engines.duckdb_errors import parse_message
from afluente.errors import EngineError
from afluente.sql_text import ident as quote

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as pads

INCOMING = "__afluente_incoming"
HINT = "fix the model's kind settings (delete_when, apply_as_deletes, keys)"


class DuckDBWorkspace:
    """Scratch tables and statements on one DuckDB connection."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, *, owned: bool) -> None:
        self.connection = connection
        self._owned = owned  # closed with the workspace; else the caller's connection
        self._exposed: set[str] = set()

    @classmethod
    def on(cls, database: duckdb.DuckDBPyConnection) -> DuckDBWorkspace:
        """A workspace on a new cursor of `database` (an engine's connection)."""
        return cls(_session(database.cursor()), owned=True)

    @classmethod
    def fresh(cls) -> DuckDBWorkspace:
        """A workspace on its own in-memory database."""
        return cls(_session(duckdb_connect()), owned=True)

    @classmethod
    def sharing(cls, connection: duckdb.DuckDBPyConnection) -> DuckDBWorkspace:
        """A workspace on the caller's connection, so the caller's relations load without
        leaving DuckDB; the connection stays open."""
        return cls(connection, owned=False)

    def load(self, name: str, source: object) -> list[str]:
        con = self.connection
        if isinstance(source, duckdb.DuckDBPyRelation):
            if not self._owned:  # streaming it would run two queries on one connection
                source.create_view(INCOMING)
                self.create(name, f"FROM {INCOMING}")
                con.execute(f"DROP VIEW {INCOMING}")
                return self.columns(name)
            source = relation_reader(source)
        import pyarrow as pa

        if not isinstance(source, pa.Table | pa.RecordBatchReader):
            raise EngineError(
                f"cannot load a {type(source).__name__} into scratch table `{name}` of a "
                "DuckDB workspace",
                hint="pass an Arrow table or record batch reader, or a DuckDB relation",
            )
        con.register(INCOMING, source)
        try:
            self.create(name, f"FROM {INCOMING}")
        finally:
            con.unregister(INCOMING)
        return self.columns(name)

    def expose(self, name: str, data: pads.Dataset | pa.Table | pa.RecordBatchReader) -> None:
        self.connection.register(name, data)
        self._exposed.add(name)

    def create(self, name: str, query: str, parameters: Mapping[str, Any] | None = None
               ) -> None:
        self.execute(f"CREATE OR REPLACE TEMP TABLE {quote(name)} AS {query}", parameters)

    def execute(self, statement: str, parameters: Mapping[str, Any] | None = None) -> None:
        with _translated():
            self.connection.execute(statement, _params(parameters))

    def rows(self, query: str, parameters: Mapping[str, Any] | None = None
             ) -> list[tuple[Any, ...]]:
        with _translated():
            return list(self.connection.execute(query, _params(parameters)).fetchall())

    def scalar(self, query: str) -> Any:
        with _translated():
            row = self.connection.execute(query).fetchone()
        return row[0] if row else None

    def stream(self, query: str) -> pa.RecordBatchReader:
        with _translated():
            return relation_reader(self.connection.sql(query))

    def columns(self, name: str) -> list[str]:
        with _translated():
            described = self.connection.execute(f"DESCRIBE {quote(name)}").fetchall()
        return [row[0] for row in described]

    def drop(self, name: str) -> None:
        if name in self._exposed:
            self.connection.unregister(name)
            self._exposed.discard(name)
            return
        self.connection.execute(f"DROP TABLE IF EXISTS {quote(name)}")

    def close(self) -> None:
        if self._owned:
            self.connection.close()

    def __enter__(self) -> DuckDBWorkspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def _translated() -> Iterator[None]:
    """DuckDB's error as an `EngineError` (the kinds' SQL is afluente's; what goes wrong in
    it comes from a model's settings, such as a `delete_when` naming no column)."""
    try:
        yield
    except duckdb.Error as exc:
        raise EngineError(
            f"an incremental step failed on DuckDB: {parse_message(str(exc)).summary}",
            hint=HINT,
        ) from exc


def _session(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Settings of an owned connection: no progress bar on stdout; times truncated and
    compared in UTC, whatever the machine's zone."""
    connection.execute("SET enable_progress_bar = false")
    connection.execute("SET SESSION TimeZone = 'UTC'")
    return connection


def _params(parameters: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(parameters) if parameters else None
