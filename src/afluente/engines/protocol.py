"""The engine protocol: what every compute engine (DuckDB now, Spark later) provides."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

if TYPE_CHECKING:  # annotations only: Arrow's dataset module costs a start-up
    import pyarrow.dataset as pads

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


class Engine(Protocol):
    """Runs models over tables attached as Arrow datasets, returning Arrow."""

    name: str
    capabilities: frozenset[Capability]

    def attach_table(self, ref: TableRef, dataset: pads.Dataset | pa.Table) -> None:
        """Make `ref` readable as `layer.table` in SQL and as a Python model input."""

    def attach_view(self, ref: TableRef, sql: str, origin: Location) -> None:
        """Define `ref` as a view from a SQL query (a `view` model)."""

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

    def interrupt(self) -> None:
        """Cancel the query running now (from another thread); it fails with an error."""
        ...

    def close(self) -> None:
        """Release the engine's resources."""
