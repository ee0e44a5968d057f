"""`flatten: true`: nested records become columns named `parent__child`, recursively.

Lists stay lists (a list has no fixed number of columns). A null parent makes its children
null. Runs batch by batch on Arrow, whatever the format that produced the structs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

SEPARATOR = "__"


class FlattenClash(ValueError):
    """Two columns would get the same flattened name."""


def flat_schema(schema: pa.Schema) -> pa.Schema:
    fields: list[pa.Field] = []
    for field in schema:
        fields.extend(_flat_fields(field, field.name))
    names = [f.name for f in fields]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise FlattenClash(f"flattening gives two columns named `{clashes[0]}`")
    return pa.schema(fields)


def _flat_fields(field: pa.Field, name: str) -> list[pa.Field]:
    if not pa.types.is_struct(field.type):
        return [pa.field(name, field.type)]
    found: list[pa.Field] = []
    for child in field.type:
        found.extend(_flat_fields(child, f"{name}{SEPARATOR}{child.name}"))
    return found


def flat_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    arrays: list[pa.Array] = []
    for column in batch.columns:
        arrays.extend(_flat_arrays(column))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _flat_arrays(array: pa.Array) -> list[pa.Array]:
    if not pa.types.is_struct(array.type):
        return [array]
    found: list[pa.Array] = []
    for child in array.flatten():  # children with the parent's nulls applied
        found.extend(_flat_arrays(child))
    return found


def flattened(reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
    """`reader` with every struct column flattened."""
    schema = flat_schema(reader.schema)

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            yield flat_batch(batch, schema)

    return pa.RecordBatchReader.from_batches(schema, batches())
