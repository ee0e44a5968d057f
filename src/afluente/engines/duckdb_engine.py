"""The DuckDB engine: the single-node default.

Upstream Delta tables are attached as Arrow datasets (DuckDB pushes projections and filters
into the scan) behind views named `layer.table`. SQL models run as written; Python models get
each input as a `duckdb.DuckDBPyRelation` on the same connection. Results stream out as
Arrow record batches straight into the Delta writer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

if TYPE_CHECKING:  # annotations only: a query that reads no table loads no Arrow
    import pyarrow as pa
    import pyarrow.dataset as pads

from afluente.engines.decrypt import ColumnDecryptor
from afluente.engines.decrypt import projection as decrypted_projection
from afluente.engines.decrypt import register as register_decrypt
from afluente.engines.duckdb_connection import duckdb_connect, relation_reader
from afluente.engines.duckdb_errors import engine_error
from afluente.engines.duckdb_profile import DuckDBProfiling
from afluente.engines.duckdb_readonly import access_error, lock_down, read_only_statement
from afluente.engines.duckdb_workspace import DuckDBWorkspace
from afluente.engines.frames import to_reader
from afluente.engines.protocol import Capability
from afluente.engines.python_errors import python_model_error
from afluente.engines.query_rows import QueryRows
from afluente.engines.settings import DuckDBSettings
from afluente.errors import EngineError, Location
from afluente.model import TableRef
from afluente.sql_text import DUCKDB
from afluente.sql_text import ident as quote
from afluente.streams import ResultStream, guarded

qualified = DUCKDB.table
T = TypeVar("T")


class DuckDBEngine(DuckDBProfiling):
    """An in-memory DuckDB database per run."""

    name = "duckdb"
    capabilities = frozenset(
        {
            Capability.SQL,
            Capability.PYTHON_MODELS,
            Capability.ARROW_PUSHDOWN,
            Capability.STREAMING_RESULTS,
            Capability.PARQUET_FILES,
            Capability.WORKSPACE,
        }
    )

    config_model = DuckDBSettings
    native_frame = "duckdb"  # what Python models get as inputs

    def __init__(self, settings: DuckDBSettings | None = None) -> None:
        settings = settings or DuckDBSettings()
        config: dict[str, Any] = {}
        if settings.threads:
            config["threads"] = settings.threads
        if settings.memory_limit:
            config["memory_limit"] = settings.memory_limit
        self.connection = duckdb_connect(":memory:", config=config)
        self.connection.execute("SET TimeZone = 'UTC'")
        self._schemas: set[str] = set()
        self._sources: dict[TableRef, Any] = {}
        self._decryptor: ColumnDecryptor | None = None

    def use_decryptor(self, decryptor: ColumnDecryptor) -> None:
        """Open the columns `decryptor` says are stored encrypted in the tables attached
        from now on (`afluente.engines.decrypt`)."""
        register_decrypt(self.connection, decryptor)
        self._decryptor = decryptor

    def _schema(self, layer: str) -> None:
        if layer not in self._schemas:
            self.connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(layer)}")
            self._schemas.add(layer)

    def attach_table(self, ref: TableRef, dataset: pads.Dataset | pa.Table) -> None:
        self._schema(ref.layer)
        hidden = f"__afluente_{ref.layer}__{ref.name}"
        self._sources[ref] = dataset  # keep the dataset alive as long as the view
        self.connection.register(hidden, dataset)
        columns = None if self._decryptor is None else decrypted_projection(
            ref, dataset.schema, self._decryptor)
        self.connection.execute(
            f"CREATE OR REPLACE VIEW {qualified(ref)} AS SELECT {columns or '*'} "
            f"FROM {quote(hidden)}"
        )

    def attach_view(self, ref: TableRef, sql: str, origin: Location) -> None:
        self._schema(ref.layer)
        prefix = f"CREATE OR REPLACE VIEW {qualified(ref)} AS "
        try:
            self.connection.execute(prefix + sql)
        except duckdb.Error as exc:
            raise self._error(exc, origin, str(ref), prefix) from None

    def run_sql(self, sql: str, origin: Location, table: str) -> ResultStream:
        try:
            reader = relation_reader(self.connection.sql(sql))
        except duckdb.Error as exc:
            raise self._positioned(exc, sql, origin, table) from None
        return guarded(reader, lambda e: _translate(e, origin, table))

    def materialize(self, ref: TableRef, sql: str, origin: Location, table: str) -> None:
        self._schema(ref.layer)
        prefix = f"CREATE OR REPLACE TABLE {qualified(ref)} AS "
        try:
            self.connection.execute(prefix + sql)
        except duckdb.Error as exc:
            raise self._error(exc, origin, table, prefix) from None

    def release(self, ref: TableRef) -> None:
        self.connection.execute(f"DROP TABLE IF EXISTS {qualified(ref)}")

    def write_parquet(
        self, sql: str, origin: Location, table: str, directory: Path
    ) -> tuple[list[Path], int] | None:
        try:
            relation = self.connection.sql(sql)
        except duckdb.Error as exc:
            raise self._positioned(exc, sql, origin, table) from None
        try:
            if not all(delta_ready_type(str(t)) for t in relation.types):
                return None
            pattern = "part-{uuid}"
            copied = self.connection.execute(
                f"COPY ({sql}) TO {DUCKDB.string(str(directory))} "
                f"(FORMAT parquet, PER_THREAD_OUTPUT true, FILENAME_PATTERN '{pattern}')"
            ).fetchone()
        except duckdb.Error as exc:
            raise self._error(exc, origin, table, "COPY (") from None
        rows = int(copied[0]) if copied else 0
        return sorted(directory.glob("*.parquet")), rows

    def run_python(
        self,
        function: Callable[..., Any],
        inputs: Sequence[TableRef],
        keywords: Sequence[str] | None,
        origin: Location,
        table: str,
    ) -> ResultStream:
        frames = [self.connection.sql(f"SELECT * FROM {qualified(ref)}") for ref in inputs]
        try:
            if keywords is None:
                result = function(*frames)
            else:
                result = function(**dict(zip(keywords, frames, strict=True)))
            reader = to_reader(result)
        except EngineError as exc:
            raise EngineError(exc.message, location=origin, table=table, hint=exc.hint) from None
        except duckdb.Error as exc:
            raise self._error(exc, origin, table) from None
        except Exception as exc:
            raise python_model_error(exc, origin, table, str(exc)) from exc
        return guarded(reader, lambda e: _translate(e, origin, table))

    def set_variables(self, variables: Mapping[str, Any]) -> None:
        for name, value in variables.items():
            self.connection.execute(f"SET VARIABLE {quote(name)} = ?", [value])

    def query(self, sql: str) -> pa.Table:
        try:
            return self.connection.sql(sql).to_arrow_table()
        except duckdb.Error as exc:
            raise EngineError(f"query failed: {_clean(exc)}", hint="check the SQL") from None

    def describe_query(self, sql: str) -> dict[str, str]:
        described = self.query(f"DESCRIBE {sql}").to_pylist()
        return {str(r["column_name"]): str(r["column_type"]) for r in described}

    def read_only_query(self, sql: str, readable: Sequence[str]) -> pa.Table:
        """Run one read-only statement with file reads limited to `readable` folders; the
        engine stays locked down afterwards (see `duckdb_readonly`)."""
        table: pa.Table = self._read_only(sql, readable, lambda r: r.to_arrow_table())
        return table

    def read_only_rows(self, sql: str, readable: Sequence[str]) -> QueryRows:
        """`read_only_query` fetched as Python values by DuckDB itself, no Arrow between."""
        return self._read_only(sql, readable, lambda r: QueryRows(list(r.columns), r.fetchall()))

    def _read_only(
        self, sql: str, readable: Sequence[str], fetch: Callable[[duckdb.DuckDBPyRelation], T]
    ) -> T:
        lock_down(self.connection, readable)
        statement = read_only_statement(self.connection, sql)
        try:
            return fetch(self.connection.sql(statement))
        except duckdb.Error as exc:
            denied = access_error(exc, sql, readable)
            if denied is not None:
                raise denied from None
            raise EngineError(f"query failed: {_clean(exc)}", hint="check the SQL") from None

    def _positioned(
        self, exc: duckdb.Error, sql: str, origin: Location, table: str
    ) -> EngineError:
        """A relation's bind error carries no `LINE n:`; binding the text again as a
        statement gives DuckDB's position (no row is read)."""
        if "\nLINE " not in str(exc):
            try:
                self.connection.execute(f"{_DESCRIBE}{sql}")
            except duckdb.Error as again:
                if _clean(again).splitlines()[:1] == _clean(exc).splitlines()[:1]:
                    return self._error(again, origin, table, _DESCRIBE)
        return self._error(exc, origin, table)

    def _error(
        self, exc: Exception, origin: Location, table: str, prefix: str = ""
    ) -> EngineError:
        return engine_error(
            _clean(exc) or type(exc).__name__, origin, table, prefix, columns=self._column_names
        )

    def _column_names(self) -> list[str]:
        """Every column of the tables and views a model can read (to suggest a name)."""
        try:
            rows = self.connection.execute(
                "SELECT DISTINCT column_name FROM duckdb_columns() "
                "WHERE NOT internal AND NOT starts_with(table_name, '__afluente_')"
            ).fetchall()
        except duckdb.Error:
            return []  # no suggestion is better than hiding the error being reported
        return [str(row[0]) for row in rows]

    def workspace(self) -> DuckDBWorkspace:
        """The kinds' scratch tables on a cursor of this database (`duckdb_workspace`)."""
        return DuckDBWorkspace.on(self.connection)

    def interrupt(self) -> None:
        self.connection.interrupt()

    def close(self) -> None:
        self.connection.close()


_DELTA_READY = re.compile(
    r"(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|FLOAT|DOUBLE|VARCHAR|BLOB|DATE|"
    r"TIMESTAMP WITH TIME ZONE|TIMESTAMP|DECIMAL\(\d+,\s*\d+\))"
)


def delta_ready_type(duckdb_type: str) -> bool:
    """Types whose Parquet form Delta reads as is (unsigned and huge integers, UUID,
    intervals and nested types go through the Delta writer, which converts them)."""
    return _DELTA_READY.fullmatch(duckdb_type) is not None


_DESCRIBE = "DESCRIBE "


def _translate(exc: Exception, origin: Location, table: str) -> EngineError:
    """Anything raised while pulling DuckDB's stream is DuckDB failing (Arrow may re-wrap it
    as an OSError on the way through the C stream interface)."""
    return _engine_error(exc, origin, table)


def _clean(exc: BaseException) -> str:
    return str(exc).strip()


def _engine_error(exc: Exception, origin: Location, table: str, prefix: str = "") -> EngineError:
    return engine_error(_clean(exc) or type(exc).__name__, origin, table, prefix)

