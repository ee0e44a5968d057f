"""The Spark engine: the same project on Apache Spark, writing the same Delta tables.

Spark never touches Delta itself (no delta-spark jars): an upstream table is read as the
Parquet files of the version the plan observed (`spark_frames`), a SQL model's result is
written by the executors as Parquet into the staging folder storage gives it, and storage
commits those files as one Delta version with delta-rs (`Warehouse.commit_staged`), exactly
as it does for DuckDB's files. Models' SQL stays in DuckDB's dialect and is transpiled with
sqlglot (`spark_sql`); Python models get Spark DataFrames.

One Spark session per process, started on first use (`spark_session`); each engine works
in a session of its own on top of it, so its temporary views are its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from afluente.engines.decrypt import ColumnDecryptor, opened_table
from afluente.engines.duckdb_connection import duckdb_connect
from afluente.engines.duckdb_profile import DuckDBProfiling
from afluente.engines.frames import to_reader
from afluente.engines.protocol import Capability
from afluente.engines.query_rows import QueryRows
from afluente.engines.settings import SparkSettings
from afluente.engines.spark_errors import python_error, spark_error, summary
from afluente.engines.spark_frames import arrow_of, delta_ready, kept, let_go, spark_frame
from afluente.engines.spark_readonly import read_only_spark_sql
from afluente.engines.spark_result_types import DuckDBResultTypes
from afluente.engines.spark_session import spark_session
from afluente.engines.spark_sql import Names, to_spark
from afluente.engines.spark_workspace import SparkWorkspace
from afluente.errors import EngineError, Location
from afluente.model import TableRef
from afluente.streams import ResultStream, guarded

_NO_DATA = re.compile(r"\s+WITH\s+NO\s+DATA\s*;?\s*$", re.IGNORECASE)
_QUERY = Location("<query>")


def view_name(ref: TableRef) -> str:
    """The Spark temporary view behind `layer.table`."""
    return f"__afluente_{ref.layer}__{ref.name}".lower()


class SparkEngine(DuckDBProfiling):
    """Models run on a Spark session (local, standalone cluster or Spark Connect).

    Describing and profiling data that is already Arrow on the driver (contracts, run
    metrics, unit-test fixtures) runs on a small local DuckDB: declared types are written
    in the project's dialect, DuckDB's, whatever engine computes the models."""

    name = "spark"
    capabilities = frozenset({Capability.SQL, Capability.PYTHON_MODELS, Capability.PARQUET_FILES,
                              Capability.WORKSPACE})

    config_model = SparkSettings
    native_frame = "spark"  # what Python models get as inputs

    def __init__(self, settings: SparkSettings | None = None) -> None:
        self.settings = settings or SparkSettings()
        self._session: Any = None
        self._views: dict[TableRef, str] = {}
        self._decryptor: ColumnDecryptor | None = None
        # the frames behind the views (a persisted one is unpersisted when its view goes)
        self._frames: dict[TableRef, Any] = {}
        self._variables: dict[str, Any] = {}
        self.connection = duckdb_connect(config={"threads": 1})  # for DuckDBProfiling
        self._result_types = DuckDBResultTypes()  # a SQL model's columns typed as DuckDB's

    @property
    def session(self) -> Any:
        """This engine's Spark session (Spark starts on first use)."""
        if self._session is None:
            self._session = spark_session(self.settings)
        return self._session

    def _names(self) -> Names:
        return Names({(r.layer, r.name): v for r, v in self._views.items()}, self._variables)

    def _register(self, ref: TableRef, frame: Any) -> None:
        frame.createOrReplaceTempView(view_name(ref))
        self._result_types.forget(ref)
        self._views[ref] = view_name(ref)
        replaced = self._frames.pop(ref, None)
        if replaced is not None:
            let_go(replaced)
        self._frames[ref] = frame

    def attach_table(self, ref: TableRef, dataset: pads.Dataset | pa.Table) -> None:
        if self._decryptor is not None:  # encrypted columns opened here, on the driver
            dataset = opened_table(ref, dataset, self._decryptor)
        self._register(ref, spark_frame(self.session, dataset, str(ref)))
        self._result_types.declare(ref, dataset.schema)

    def use_decryptor(self, decryptor: ColumnDecryptor) -> None:
        """Open the encrypted columns of the tables attached from now on: on the driver,
        before Spark sees them (`engines.decrypt.opened_table`)."""
        self._decryptor = decryptor

    def attach_view(self, ref: TableRef, sql: str, origin: Location) -> None:
        self._register(ref, self._frame(sql, origin, str(ref)))

    def _frame(self, sql: str, origin: Location, table: str) -> Any:
        """The model's query as a DataFrame (analysed by Spark, nothing computed yet)."""
        text = to_spark(sql, self._names(), origin, table)
        try:
            return self.session.sql(text)
        except Exception as exc:
            raise spark_error(exc, origin, table, sql) from None

    def _model_frame(self, sql: str, origin: Location, table: str) -> Any:
        """A model's query as a DataFrame whose columns have DuckDB's types of the query
        (`spark_result_types`): one Delta schema whichever engine writes the table."""
        frame = self._frame(sql, origin, table)
        try:
            return self._result_types.typed(frame, sql, self._frames, table)
        except Exception as exc:
            raise spark_error(exc, origin, table, sql) from None

    def run_sql(self, sql: str, origin: Location, table: str) -> ResultStream:
        frame = self._model_frame(sql, origin, table)
        return self._stream(frame, origin, table, sql)

    def _stream(self, frame: Any, origin: Location, table: str, sql: str | None) -> ResultStream:
        try:
            result = arrow_of(frame)
        except Exception as exc:
            raise spark_error(exc, origin, table, sql) from None
        return guarded(result.to_reader(), lambda e: spark_error(e, origin, table, sql))

    def materialize(self, ref: TableRef, sql: str, origin: Location, table: str) -> None:
        empty = _NO_DATA.search(sql)
        frame = self._frame(_NO_DATA.sub("", sql), origin, table)
        try:
            frame = frame.limit(0) if empty else kept(frame)
        except Exception as exc:
            raise spark_error(exc, origin, table, sql) from None
        self._register(ref, frame)

    def release(self, ref: TableRef) -> None:
        frame = self._frames.pop(ref, None)
        self._result_types.forget(ref)
        if frame is not None:
            let_go(frame)
        if self._views.pop(ref, None) is not None:
            self.session.catalog.dropTempView(view_name(ref))

    def write_parquet(
        self, sql: str, origin: Location, table: str, directory: Path
    ) -> tuple[list[Path], int] | None:
        frame = self._model_frame(sql, origin, table)
        if not all(delta_ready(field.dataType) for field in frame.schema.fields):
            return None
        target = directory / "spark"
        try:
            frame.write.parquet(str(target))  # a new folder: nothing to overwrite
        except Exception as exc:
            raise spark_error(exc, origin, table, sql) from None
        files = sorted(target.glob("part-*.parquet"))
        return files, sum(pq.read_metadata(file).num_rows for file in files)

    def run_python(
        self,
        function: Callable[..., Any],
        inputs: Sequence[TableRef],
        keywords: Sequence[str] | None,
        origin: Location,
        table: str,
    ) -> ResultStream:
        frames = [self.session.table(self._view(ref, origin, table)) for ref in inputs]
        try:
            if keywords is None:
                result = function(*frames)
            else:
                result = function(**dict(zip(keywords, frames, strict=True)))
        except EngineError as exc:
            raise EngineError(exc.message, location=origin, table=table, hint=exc.hint) from None
        except Exception as exc:
            raise python_error(exc, origin, table) from exc
        if _is_spark_frame(result):
            return self._stream(result, origin, table, None)
        try:
            reader = to_reader(result)
        except EngineError as exc:
            raise EngineError(exc.message, location=origin, table=table, hint=exc.hint) from None
        return guarded(reader, lambda e: spark_error(e, origin, table))

    def _view(self, ref: TableRef, origin: Location, table: str) -> str:
        view = self._views.get(ref)
        if view is None:
            raise EngineError(f"input `{ref}` is not attached to the Spark engine",
                              location=origin, table=table, hint="build the input first")
        return view

    def set_variables(self, variables: Mapping[str, Any]) -> None:
        self._variables = dict(variables)
        self._result_types.set_variables(variables)

    def query(self, sql: str) -> pa.Table:
        self.session  # noqa: B018  (Spark not starting is its own error, not the query's)
        try:
            return arrow_of(self._frame(sql, _QUERY, "query"))
        except EngineError as exc:
            raise EngineError(f"query failed: {exc.message}", hint="check the SQL") from None
        except Exception as exc:
            raise EngineError(f"query failed: {summary(exc)}", hint="check the SQL") from None

    def read_only_query(self, sql: str, readable: Sequence[str]) -> pa.Table:
        """Run one read-only query (see `spark_readonly`)."""
        text = read_only_spark_sql(sql, self._names(), readable)
        try:
            return arrow_of(self.session.sql(text))
        except Exception as exc:
            raise EngineError(f"query failed: {summary(exc)}", hint="check the SQL") from None

    def read_only_rows(self, sql: str, readable: Sequence[str]) -> QueryRows:
        return QueryRows.of_arrow(self.read_only_query(sql, readable))

    def describe_query(self, sql: str) -> dict[str, str]:
        """The result's Arrow schema from Spark's analysis (`LIMIT 0` reads no row), in the
        DuckDB type names expectations and contracts are declared with."""
        return self.column_types(self.query(f"SELECT * FROM ({sql}) AS __described LIMIT 0")
                                 .schema)

    def workspace(self) -> SparkWorkspace:
        """The incremental kinds' workspace: scratch views on this engine's session. Its
        scratch files are on the driver's disk, which only a local master's executors see."""
        remote = bool(self.settings.connect_url) or not self.settings.master.startswith("local")
        return SparkWorkspace(self.session, remote=remote)

    def interrupt(self) -> None:
        if self._session is None:
            return
        interrupt_all = getattr(self._session, "interruptAll", None)
        if interrupt_all is not None:
            interrupt_all()
        else:
            self._session.sparkContext.cancelAllJobs()

    def close(self) -> None:
        """Drop this engine's views; a Spark Connect session is closed on the server. The
        process's Spark keeps running for the next engine."""
        self.connection.close()
        self._result_types.close()
        if self._session is None:
            return
        for ref in list(self._views):
            self.release(ref)
        if self.settings.connect_url:
            self._session.stop()
        self._session = None


def _is_spark_frame(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and type(value).__module__.startswith("pyspark")
