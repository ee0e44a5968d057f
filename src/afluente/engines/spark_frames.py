"""Arrow data handed to the engine (a Delta version's dataset, a small Arrow table) as Spark
DataFrames, and Spark's column types checked for the Parquet fast path.

A Delta version arrives as the Arrow dataset storage built from that version's file list
(`storage/arrow_dataset.py`). Spark reads the same files by path with the dataset's schema
(a column older files lack reads as NULL, as Delta's schema evolution means), and each
partition's values, which Delta keeps in the log and not in the files, are added as
literal columns to that partition's files. A table on object storage is read by the
executors through the dataset's own Arrow filesystem instead (`spark_remote_files`).
"""

from __future__ import annotations

import contextlib
import os
from collections import defaultdict
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
from pyarrow.fs import FileSystem, LocalFileSystem, SubTreeFileSystem

# Spark types whose Parquet form Delta reads as is; others (arrays, maps, structs, NULL,
# intervals, variants) go through the Delta writer, which converts them.
DELTA_READY = {
    "boolean", "tinyint", "smallint", "int", "bigint", "float", "double", "string",
    "binary", "date", "timestamp", "timestamp_ntz",
}


def delta_ready(data_type: Any) -> bool:
    name = data_type.simpleString()
    return name in DELTA_READY or name.startswith("decimal(")


def spark_frame(session: Any, source: pads.Dataset | pa.Table, table: str) -> Any:
    """A DataFrame over `source` (files read by Spark; an Arrow table sent as is)."""
    if isinstance(source, pa.Table):
        return arrow_frame(session, source)
    if not isinstance(source, pads.FileSystemDataset):
        return arrow_frame(session, source.to_table())
    if not source.files:
        return arrow_frame(session, source.schema.empty_table())
    root = _local_root(source.filesystem)
    if root is None:
        from afluente.engines.spark_remote_files import remote_frame

        return remote_frame(session, source)
    groups: dict[tuple[tuple[str, Any], ...], list[str]] = defaultdict(list)
    for fragment in source.get_fragments():
        keys = pads.get_partition_keys(fragment.partition_expression)
        groups[tuple(sorted(keys.items()))].append(os.path.join(root, fragment.path))
    if not groups:
        return arrow_frame(session, source.schema.empty_table())
    frames = [_read(session, source.schema, files, dict(keys)) for keys, files in groups.items()]
    frame = frames[0]
    for more in frames[1:]:
        frame = frame.unionByName(more)
    return frame


def _read(session: Any, schema: pa.Schema, files: list[str], partition: dict[str, Any]) -> Any:
    from pyspark.sql import functions
    from pyspark.sql.pandas.types import from_arrow_schema

    stored = pa.schema([f for f in schema if f.name not in partition])
    frame = session.read.schema(from_arrow_schema(stored, prefer_timestamp_ntz=True)) \
        .parquet(*files)
    spark_schema = from_arrow_schema(schema, prefer_timestamp_ntz=True)
    for name, value in partition.items():
        frame = frame.withColumn(name, functions.lit(value).cast(spark_schema[name].dataType))
    return frame.select(*schema.names)


def _local_root(filesystem: FileSystem) -> str | None:
    """The folder the dataset's paths are relative to on the local disk (None elsewhere)."""
    if isinstance(filesystem, LocalFileSystem):
        return "/"
    if isinstance(filesystem, SubTreeFileSystem) and isinstance(
        filesystem.base_fs, LocalFileSystem
    ):
        return str(filesystem.base_path)
    return None


def arrow_of(frame: Any) -> pa.Table:
    """A Spark DataFrame's rows as one Arrow table (collected on the driver)."""
    table = frame.toArrow()
    assert isinstance(table, pa.Table)
    return nullable(table)


def nullable(table: pa.Table) -> pa.Table:
    """`table` with every column nullable, as DuckDB returns results (and Spark writes its
    Parquet files): Spark knows some columns cannot be NULL (`count(*)`, literals, coalesce
    with a constant), and a Delta schema taking that from Spark would differ from the one
    DuckDB writes for the same table, and refuse a later NULL."""
    if all(field.nullable for field in table.schema):
        return table
    return table.cast(pa.schema([field.with_nullable(True) for field in table.schema],
                                metadata=table.schema.metadata))


def arrow_frame(session: Any, table: pa.Table) -> Any:
    """An Arrow table as a DataFrame, timestamps without time zone kept so (TIMESTAMP_NTZ;
    Spark would read them as its session-zone TIMESTAMP)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return session.createDataFrame(
        table, schema=from_arrow_schema(table.schema, prefer_timestamp_ntz=True))


def kept(frame: Any) -> Any:
    """`frame` computed once and kept for the statements that read it again: a local
    checkpoint, or on Spark Connect a persisted frame (pyspark's Connect client frees a
    checkpoint's server copy when any Python object naming it is collected, even while
    another one still uses it, which fails later reads with DATAFRAME_NOT_FOUND)."""
    if type(frame).__module__.startswith("pyspark.sql.connect"):
        return frame.persist()
    return frame.localCheckpoint()


def let_go(frame: Any) -> None:
    """Free what `kept` holds (a checkpoint is freed with its last reference)."""
    if type(frame).__module__.startswith("pyspark.sql.connect"):
        with contextlib.suppress(Exception):  # a view it read may be gone: the session's
            frame.unpersist()  # end frees it then
