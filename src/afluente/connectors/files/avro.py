"""Avro files to Arrow with `fastavro` (DuckDB's avro reader is an extension download).

The Arrow schema comes from the file's writer schema, so every batch has the same types
whatever its values; records are decoded in bounded batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

import fastavro
import pyarrow as pa

BATCH_ROWS = 50_000

_PRIMITIVES: dict[str, pa.DataType] = {
    "null": pa.null(),
    "boolean": pa.bool_(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "bytes": pa.binary(),
    "string": pa.string(),
}

_LOGICAL: dict[str, pa.DataType] = {
    "date": pa.date32(),
    "time-millis": pa.time32("ms"),
    "time-micros": pa.time64("us"),
    "timestamp-millis": pa.timestamp("ms", tz="UTC"),
    "timestamp-micros": pa.timestamp("us", tz="UTC"),
    "local-timestamp-millis": pa.timestamp("ms"),
    "local-timestamp-micros": pa.timestamp("us"),
}


class UnsupportedAvroType(ValueError):
    """An Avro type with no faithful Arrow equivalent here (a union of several types)."""


def arrow_type(schema: Any) -> pa.DataType:
    """The Arrow type of an Avro schema node (nullable unions become nullable columns)."""
    if isinstance(schema, list):
        kinds = [s for s in schema if s != "null"]
        if len(kinds) != 1:
            raise UnsupportedAvroType(f"union of {kinds}")
        return arrow_type(kinds[0])
    if isinstance(schema, str):
        if schema not in _PRIMITIVES:
            raise UnsupportedAvroType(f"named type {schema!r}")
        return _PRIMITIVES[schema]
    logical = schema.get("logicalType")
    if logical == "decimal":
        return pa.decimal128(int(schema["precision"]), int(schema.get("scale", 0)))
    if logical in _LOGICAL:
        return _LOGICAL[logical]
    kind = schema["type"]
    if kind == "record":
        return pa.struct([pa.field(f["name"], arrow_type(f["type"])) for f in schema["fields"]])
    if kind == "array":
        return pa.list_(arrow_type(schema["items"]))
    if kind == "map":
        return pa.map_(pa.string(), arrow_type(schema["values"]))
    if kind == "enum":
        return pa.string()
    if kind == "fixed":
        return pa.binary(int(schema["size"]))
    return arrow_type(kind)


def avro_schema(path: str) -> pa.Schema:
    with open(path, "rb") as file:
        writer = fastavro.reader(file).writer_schema
    record = arrow_type(writer)
    assert isinstance(record, pa.StructType)
    return pa.schema(list(record))


def avro_batches(path: str) -> Iterator[pa.RecordBatch]:
    schema = avro_schema(path)
    with open(path, "rb") as file:
        records = iter(fastavro.reader(file))
        while rows := list(islice(records, BATCH_ROWS)):
            yield pa.RecordBatch.from_pylist(rows, schema=schema)
