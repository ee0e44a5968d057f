"""JSON records as Arrow batches: nested objects become structs, arrays become lists.

A stream has one schema, fixed by the first batch of records (up to `batch_size` records):
within it, a field seen with several types takes the widest one (int and float give float;
anything else mixed gives text, non-text values written as JSON). A later record whose value
does not fit its column (text in an integer column, a new key in a struct, a key the first
batch never had) keeps its value, as JSON, in `_rescued_data` and leaves the column null, so
nothing is lost; a later run whose first batch has that key adds it as a column.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from afluente.connectors.protocol import RESCUED_COLUMN, SOURCE_COLUMN

INT64 = (-(2**63), 2**63 - 1)
RESERVED = (RESCUED_COLUMN, SOURCE_COLUMN)

# An inferred JSON type: "null" | "bool" | "int" | "float" | "text" |
# ("struct", {key: type}) | ("list", type)
Inferred = Any


def infer(value: Any) -> Inferred:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if INT64[0] <= value <= INT64[1] else "text"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dict):
        return ("struct", {key: infer(item) for key, item in value.items()})
    if isinstance(value, list):
        element: Inferred = "null"
        for item in value:
            element = merge(element, infer(item))
        return ("list", element)
    return "text"


def merge(a: Inferred, b: Inferred) -> Inferred:
    """The narrowest type both values fit in."""
    if a == "null":
        return b
    if b == "null" or a == b:
        return a
    if isinstance(a, str) and isinstance(b, str) and {a, b} == {"int", "float"}:
        return "float"
    if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0] == "struct":
        fields = dict(a[1])
        for key, kind in b[1].items():
            fields[key] = merge(fields.get(key, "null"), kind)
        return ("struct", fields)
    if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0] == "list":
        return ("list", merge(a[1], b[1]))
    return "text"


def to_arrow_type(kind: Inferred) -> pa.DataType:
    """Arrow type of an inferred type; unknown (only nulls, `{}`) becomes text."""
    scalars = {"bool": pa.bool_(), "int": pa.int64(), "float": pa.float64()}
    if isinstance(kind, str):
        return scalars.get(kind, pa.string())
    if kind[0] == "list":
        return pa.list_(to_arrow_type(kind[1]))
    if not kind[1]:
        return pa.string()
    return pa.struct([pa.field(key, to_arrow_type(sub)) for key, sub in kind[1].items()])


def infer_schema(records: Iterable[dict[str, Any]]) -> pa.Schema:
    """The stream's schema from its first batch, plus `_rescued_data` and `_source`."""
    fields: dict[str, Inferred] = {}
    for record in records:
        for key, value in record.items():
            if key not in RESERVED:
                fields[key] = merge(fields.get(key, "null"), infer(value))
    columns = [pa.field(key, to_arrow_type(kind)) for key, kind in fields.items()]
    return pa.schema([*columns, pa.field(RESCUED_COLUMN, pa.string()),
                      pa.field(SOURCE_COLUMN, pa.string())])


class Misfit(Exception):
    """A value does not fit its column's type."""


def fit(value: Any, kind: pa.DataType) -> Any:
    """`value` as a Python value of Arrow type `kind` (raises Misfit)."""
    if value is None:
        return None
    if pa.types.is_string(kind):
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if pa.types.is_boolean(kind):
        return _checked(value, isinstance(value, bool))
    if pa.types.is_int64(kind):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return _checked(value, ok and INT64[0] <= value <= INT64[1])
    if pa.types.is_float64(kind):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(_checked(value, ok))
    if pa.types.is_list(kind):
        items = _checked(value, isinstance(value, list))
        return [fit(item, kind.value_type) for item in items]
    if pa.types.is_struct(kind):
        return _fit_struct(value, kind)
    raise Misfit


def _fit_struct(value: Any, kind: pa.StructType) -> dict[str, Any]:
    names = {kind.field(i).name: kind.field(i).type for i in range(kind.num_fields)}
    if not isinstance(value, dict) or any(key not in names for key in value):
        raise Misfit
    return {name: fit(value.get(name), sub) for name, sub in names.items()}


def _checked(value: Any, ok: bool) -> Any:
    if not ok:
        raise Misfit
    return value


def to_batch(
    records: list[dict[str, Any]], sources: list[str], schema: pa.Schema
) -> pa.RecordBatch:
    """Records as one batch of `schema`; values that do not fit go to `_rescued_data`."""
    columns = {field.name: field.type for field in schema if field.name not in RESERVED}
    rows = []
    for record, source in zip(records, sources, strict=True):
        row: dict[str, Any] = {}
        rescued: dict[str, Any] = {}
        for key, value in record.items():
            if key not in columns:
                rescued[key] = value
                continue
            try:
                row[key] = fit(value, columns[key])
            except Misfit:
                rescued[key] = value
        row[RESCUED_COLUMN] = json.dumps(rescued, ensure_ascii=False) if rescued else None
        row[SOURCE_COLUMN] = source
        rows.append(row)
    return pa.RecordBatch.from_pylist(rows, schema=schema)
