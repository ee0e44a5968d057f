"""The engine protocol: what every compute engine (DuckDB now, Spark later) provides."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: a query that reads no table loads no Arrow
    import pyarrow as pa
    import pyarrow.dataset as pads

    from afluente.engines.decrypt import ColumnDecryptor

from afluente.engines.column_stats import RowsProfile
from afluente.engines.query_rows import QueryRows
from afluente.errors import Location
from afluente.model import TableRef
from afluente.streams import ResultStream


class Capability(Enum):
    """What an engine can do; the runtime checks these before planning work on it."""

    SQL = "sql"
    PYTHON_MODELS = "python_models"
    ARROW_PUSHDOWN = "arrow_pushdown"
    STREAMING_RESULTS = "streaming_results"
    PARQUET_FILES = "parquet_files"  # writes a model's result as Parquet files itself
    WORKSPACE = "workspace"  # runs the incremental kinds' SQL (`Engine.workspace`)


class Engine(Protocol):
    """Runs models over tables attached as Arrow datasets, returning Arrow."""

    name: str
    capabilities: frozenset[Capability]

    def attach_table(self, ref: TableRef, dataset: pads.Dataset | pa.Table) -> None:
        """Make `ref` readable as `layer.table` in SQL and as a Python model input."""

    def attach_view(self, ref: TableRef, sql: str, origin: Location) -> None:
        """Define `ref` as a view from a SQL query (a `view` model)."""

    def use_decryptor(self, decryptor: ColumnDecryptor) -> None:
        """Open the encrypted columns of the tables attached from now on (or refuse, with
        the reason, on an engine that cannot)."""

    def run_sql(self, sql: str, origin: Location, table: str) -> ResultStream:
        """Run a SQL model; errors name `origin` (the model file)."""

    def materialize(self, ref: TableRef, sql: str, origin: Location, table: str) -> None:
        """Compute `sql` once into an engine-side table `ref` (spilled by the engine, not held
        in Python), replacing any previous one; errors name `origin`."""

    def release(self, ref: TableRef) -> None:
        """Drop a table made by `materialize` (nothing when there is none)."""

    def write_parquet(
        self, sql: str, origin: Location, table: str, directory: Path
    ) -> tuple[list[Path], int] | None:
        """Write a SQL model's result as Parquet files in `directory` (in parallel); return
        the files and the row count, or None when the result has types that must go through
        the Delta writer instead (which converts them)."""

    def run_python(
        self,
        function: Callable[..., Any],
        inputs: Sequence[TableRef],
        keywords: Sequence[str] | None,
        origin: Location,
        table: str,
    ) -> ResultStream:
        """Call a Python model with its inputs as engine frames and return its output."""

    def set_variables(self, variables: Mapping[str, Any]) -> None:
        """Make project `vars` readable from models (DuckDB: `getvariable('name')`)."""

    def query(self, sql: str) -> pa.Table:
        """Run a read-only query and return the whole result."""

    def read_only_query(self, sql: str, readable: Sequence[str]) -> pa.Table:
        """Run one user statement that must only read: anything that writes, more than one
        statement, or a file read outside the `readable` folders is refused with an
        `EngineError`. The engine is for this query only afterwards."""

    def read_only_rows(self, sql: str, readable: Sequence[str]) -> QueryRows:
        """`read_only_query`'s result as Python values (what `afluente query` prints)."""

    def workspace(self) -> Workspace:
        """A workspace for the incremental kinds' SQL on this engine (close it after use)."""
        ...

    def interrupt(self) -> None:
        """Cancel the query running now (from another thread); it fails with an error."""
        ...

    def close(self) -> None:
        """Release the engine's resources."""

    # --- describe, profile and type data outside a model (observability, contracts, unit
    # tests; issue 13). These never disturb a model's result that is still streaming.

    def describe_query(self, sql: str) -> dict[str, str]:
        """Column -> type (in the project dialect's names) of a query's result, bound but
        not run; SQL that does not bind is an `EngineError`."""
        ...

    def column_types(self, schema: pa.Schema) -> dict[str, str]:
        """Column -> this engine's type name, for a result with this Arrow schema."""
        ...

    def canonical_type(self, sql_type: str) -> str:
        """This engine's own spelling of a declared SQL type (`int4` -> `INTEGER`); a type
        it cannot parse is an `EngineError`."""
        ...

    def profile_rows(
        self,
        rows: pa.Table | pa.RecordBatchReader,
        columns: Sequence[str],
        averaged: Collection[str] = (),
        skip_prefixed: tuple[str, str] | None = None,
    ) -> RowsProfile:
        """Row count and, per column of `columns`, values present, distinct values (an
        estimate is fine: HyperLogLog or similar) and (for the `averaged` ones) the mean, in
        one pass over `rows` (a stream is read once); rows whose `skip_prefixed[0]` column
        starts with `skip_prefixed[1]` are left out."""
        ...

    def profile_files(
        self,
        paths: Sequence[str],
        columns: Sequence[str],
        averaged: Collection[str] = (),
        skip_prefixed: tuple[str, str] | None = None,
        equals: tuple[str, str] | None = None,
        limit: int | None = None,
    ) -> RowsProfile:
        """`profile_rows` of local Parquet files read by the engine's own reader (no Arrow
        scan in between): the rows whose `equals[0]` column is `equals[1]`, the first
        `limit` of them; a column some files lack reads as null there. A column no file has
        is an `EngineError` (the caller profiles through Arrow instead)."""
        ...

    def cast_text(self, text: pa.Table, types: Mapping[str, str]) -> pa.Table:
        """Text columns cast to the declared engine types (name -> type, in that order); a
        value that does not convert becomes null, a type that does not exist is an
        `EngineError`."""
        ...


class Workspace(Protocol):
    """Where the incremental kinds compute: named scratch tables held by the engine (spilled
    by it under memory pressure, never held in Python) and statements over them.

    The kinds' SQL is written in DuckDB's dialect; a workspace of another engine translates
    it. Names are plain identifiers chosen by the caller; `parameters` fill `$name`
    placeholders.
    """

    def load(self, name: str, source: object) -> list[str]:
        """Copy a source (Arrow table or stream, read once; or a relation of this engine)
        into scratch table `name`, replacing any; return its column names."""
        ...

    def expose(self, name: str, data: pads.Dataset | pa.Table | pa.RecordBatchReader) -> None:
        """Make Arrow data readable as `name` without copying it: a stored table version (a
        dataset; the engine pushes projections and filters into its scan), a table, or a
        stream (read once)."""

    def create(self, name: str, query: str, parameters: Mapping[str, Any] | None = None
               ) -> None:
        """Compute `query` into scratch table `name`, replacing any (the query may read
        `name` itself)."""

    def execute(self, statement: str, parameters: Mapping[str, Any] | None = None) -> None:
        """Run one statement for its effect."""

    def rows(self, query: str, parameters: Mapping[str, Any] | None = None
             ) -> list[tuple[Any, ...]]:
        """Run a query with a small result and return its rows."""
        ...

    def scalar(self, query: str) -> Any:
        """The first column of the first row of a query (None when it has no row)."""

    def stream(self, query: str) -> pa.RecordBatchReader:
        """A query's result as Arrow batches, streamed (run nothing else on the workspace
        until it is read)."""
        ...

    def columns(self, name: str) -> list[str]:
        """The column names of scratch table `name`."""
        ...

    def drop(self, name: str) -> None:
        """Remove scratch table or exposed table `name` (nothing when there is none)."""

    def close(self) -> None:
        """Release every scratch table."""
