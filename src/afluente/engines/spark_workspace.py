"""The Spark workspace of the incremental kinds (the `Workspace` protocol).

A scratch table is a temporary view of the engine's session over a DataFrame that no longer
depends on what it was computed from: `create` runs the statement once and keeps the result
with `localCheckpoint` (held by the executors, spilled to their disk), so a statement may
read the table it replaces. Arrow data handed to the workspace (the model's output, a
stream) is written once as Parquet into a scratch folder the workspace owns and read by
Spark from there, batch by batch, never gathered in Python a second time; a stored table
version is read from its own files (`spark_frames`). Over Spark Connect or on a cluster,
whose executors do not see the driver's disk, Arrow data is sent from the driver instead.

Views are named per workspace (`<name>__ws<N>`), so two workspaces on one engine never see
each other's tables. The SQL is translated by `spark_kind_sql`.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from afluente.engines.spark_errors import summary
from afluente.engines.spark_frames import arrow_frame, arrow_of, kept, let_go, spark_frame
from afluente.engines.spark_kind_sql import KindQuery, kind_sql
from afluente.errors import EngineError

if TYPE_CHECKING:
    import pyarrow.dataset as pads

_NUMBERS = itertools.count(1)
HINT = "fix the model's kind settings (delete_when, apply_as_deletes), or run it on DuckDB"


class SparkWorkspace:
    """Scratch tables and statements on one Spark session."""

    def __init__(self, session: Any, *, remote: bool = False) -> None:
        self.session = session
        self._remote = remote  # executors cannot read the driver's files: send Arrow data
        self._suffix = f"__ws{next(_NUMBERS)}"
        self._views: dict[str, str] = {}  # scratch name -> temporary view
        self._frames: dict[str, Any] = {}  # the frames behind the views
        self._folder: Path | None = None

    def load(self, name: str, source: object) -> list[str]:
        if _is_spark_frame(source):
            self._register(name, source)
        elif isinstance(source, pa.Table | pa.RecordBatchReader):
            self._register(name, self._run(lambda: self._from_arrow(source)))
        else:
            raise EngineError(
                f"cannot load a {type(source).__name__} into scratch table `{name}` of a "
                "Spark workspace",
                hint="pass an Arrow table or record batch reader, or a Spark DataFrame",
            )
        return self.columns(name)

    def expose(self, name: str, data: pads.Dataset | pa.Table | pa.RecordBatchReader) -> None:
        if isinstance(data, pa.Table | pa.RecordBatchReader):
            self._register(name, self._run(lambda: self._from_arrow(data)))
        else:
            self._register(name, self._run(lambda: spark_frame(self.session, data, name)))

    def create(self, name: str, query: str, parameters: Mapping[str, Any] | None = None
               ) -> None:
        frame = self._frame(query, parameters)
        self._register(name, self._run(lambda: kept(frame)))

    def execute(self, statement: str, parameters: Mapping[str, Any] | None = None) -> None:
        self._table(statement, parameters)

    def rows(self, query: str, parameters: Mapping[str, Any] | None = None
             ) -> list[tuple[Any, ...]]:
        table = self._table(query, parameters)
        return list(zip(*(column.to_pylist() for column in table.columns), strict=True))

    def scalar(self, query: str) -> Any:
        rows = self.rows(query)
        return rows[0][0] if rows else None

    def stream(self, query: str) -> pa.RecordBatchReader:
        return self._table(query, None).to_reader()

    def columns(self, name: str) -> list[str]:
        return list(self.session.table(self._view(name)).columns)

    def drop(self, name: str) -> None:
        frame = self._frames.pop(name, None)
        if frame is not None:
            let_go(frame)
        view = self._views.pop(name, None)
        if view is not None:
            self.session.catalog.dropTempView(view)

    def close(self) -> None:
        for name in list(self._views):
            self.drop(name)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> SparkWorkspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _register(self, name: str, frame: Any) -> None:
        view = f"{name}{self._suffix}"
        frame.createOrReplaceTempView(view)
        self._views[name] = view
        replaced = self._frames.pop(name, None)
        if replaced is not None and replaced is not frame:
            let_go(replaced)
        self._frames[name] = frame

    def _view(self, name: str) -> str:
        view = self._views.get(name)
        if view is None:
            raise EngineError(f"scratch table `{name}` is not in the Spark workspace",
                              hint="this is a bug in afluente; please report it")
        return view

    def _frame(self, query: str, parameters: Mapping[str, Any] | None) -> Any:
        translated: KindQuery = kind_sql(query, self._views, parameters)
        frame = self._run(lambda: self.session.sql(translated.text))
        return frame.drop(translated.marker) if translated.marker else frame

    def _table(self, query: str, parameters: Mapping[str, Any] | None) -> pa.Table:
        frame = self._frame(query, parameters)
        table: pa.Table = self._run(lambda: arrow_of(frame))
        return table

    def _run(self, step: Callable[[], Any]) -> Any:
        try:
            return step()
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(f"an incremental step failed on Spark: {summary(exc)}",
                              hint=HINT) from None

    def _from_arrow(self, data: pa.Table | pa.RecordBatchReader) -> Any:
        """Arrow data as a DataFrame: Parquet written batch by batch and read by Spark."""
        from pyspark.sql.pandas.types import from_arrow_schema

        if self._remote:
            table = data if isinstance(data, pa.Table) else data.read_all()
            return arrow_frame(self.session, table)
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="afluente-spark-workspace-"))
        path = self._folder / f"scratch-{next(_NUMBERS)}.parquet"  # no `_`: Spark skips those
        reader = data.to_reader() if isinstance(data, pa.Table) else data
        with pq.ParquetWriter(path, reader.schema, coerce_timestamps="us",
                              allow_truncated_timestamps=True) as writer:
            for batch in reader:
                writer.write_batch(batch)
        schema = from_arrow_schema(reader.schema, prefer_timestamp_ntz=True)
        return self.session.read.schema(schema).parquet(str(path))  # no job to read it


def _is_spark_frame(value: object) -> bool:
    return type(value).__name__ == "DataFrame" and type(value).__module__.startswith("pyspark")
