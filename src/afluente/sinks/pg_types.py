"""Arrow (Delta) types → PostgreSQL types, and Arrow batches → COPY-ready CSV.

Type names are written the way PostgreSQL's `format_type()` prints them, so the columns of
an existing table can be compared with the gold table's by plain string equality.

Rows travel as CSV written by Arrow's vectorised writer: scalars keep Arrow's text form
(PostgreSQL reads it as is: ISO dates, `…Z` timestamps, `nan`/`inf`), and only the columns
CSV cannot carry are turned into text first — binary as bytea hex (`\\x…`), lists of scalars
as PostgreSQL array literals, structs, maps and nested lists as JSON.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from afluente.sinks.errors import SinkError

_INTEGERS: dict[pa.DataType, str] = {
    pa.int8(): "smallint", pa.int16(): "smallint", pa.int32(): "integer", pa.int64(): "bigint",
    pa.uint8(): "smallint", pa.uint16(): "integer", pa.uint32(): "bigint",
    pa.uint64(): "numeric(20,0)",
}

_CSV_OPTIONS = pacsv.WriteOptions(include_header=False)


def _is_list(t: pa.DataType) -> bool:
    return bool(pa.types.is_list(t) or pa.types.is_large_list(t)
                or pa.types.is_fixed_size_list(t) or pa.types.is_list_view(t)
                or pa.types.is_large_list_view(t))


def _is_json(t: pa.DataType) -> bool:
    """Structs, maps and lists of anything nested are stored as jsonb."""
    if pa.types.is_struct(t) or pa.types.is_map(t):
        return True
    return _is_list(t) and (_is_list(t.value_type) or _is_json(t.value_type))


def _scalar_type(t: pa.DataType) -> str | None:
    if t in _INTEGERS:
        return _INTEGERS[t]
    if pa.types.is_decimal(t):
        return f"numeric({t.precision},{t.scale})"
    checks: list[tuple[Callable[[pa.DataType], bool], str]] = [
        (pa.types.is_float64, "double precision"),
        (pa.types.is_floating, "real"),
        (pa.types.is_boolean, "boolean"),
        (lambda x: pa.types.is_string(x) or pa.types.is_large_string(x)
         or pa.types.is_string_view(x) or pa.types.is_null(x), "text"),
        (pa.types.is_date, "date"),
        (pa.types.is_time, "time without time zone"),
        (lambda x: pa.types.is_binary(x) or pa.types.is_large_binary(x)
         or pa.types.is_fixed_size_binary(x) or pa.types.is_binary_view(x), "bytea"),
    ]
    if pa.types.is_timestamp(t):
        return "timestamp with time zone" if t.tz else "timestamp without time zone"
    return next((name for check, name in checks if check(t)), None)


def pg_type(arrow_type: pa.DataType, column: str = "?") -> str:
    """The PostgreSQL type a column of `arrow_type` is published as."""
    t = arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type
    if _is_json(t):
        return "jsonb"
    if _is_list(t):
        return f"{pg_type(t.value_type, column)}[]"
    name = _scalar_type(t)
    if name is None:
        raise SinkError(
            f"column `{column}` has type {arrow_type}, which has no PostgreSQL mapping",
            hint="cast it in the gold model (e.g. an interval to a number of seconds)",
        )
    return name


def pg_columns(schema: pa.Schema) -> list[tuple[str, str]]:
    """(column, PostgreSQL type) for each column of `schema`, in order."""
    return [(f.name, pg_type(f.type, f.name)) for f in schema]


# -- values -------------------------------------------------------------------------------


def csv_bytes(batch: pa.RecordBatch) -> bytes:
    """`batch` as PostgreSQL-readable CSV (no header; unquoted empty = NULL)."""
    columns = [_copy_ready(column) for column in batch.columns]
    ready = pa.RecordBatch.from_arrays(columns, names=batch.schema.names)
    buffer = io.BytesIO()
    pacsv.write_csv(ready, buffer, _CSV_OPTIONS)
    return buffer.getvalue()


def _copy_ready(column: pa.Array) -> pa.Array:
    t = column.type
    if pa.types.is_dictionary(t):
        return _copy_ready(column.dictionary_decode())
    if _is_json(t):
        return _as_text(column, lambda v: json.dumps(_jsonable(v), ensure_ascii=False))
    if _is_list(t):
        return _as_text(column, _array_literal)
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t) \
            or pa.types.is_binary_view(t):
        return _as_text(column, lambda v: "\\x" + v.hex())
    if pa.types.is_string_view(t) or pa.types.is_null(t):
        return column.cast(pa.large_string())
    return column


def _as_text(column: pa.Array, render: Callable[[Any], str]) -> pa.Array:
    values = column.to_pylist()
    return pa.array([None if v is None else render(v) for v in values], pa.large_string())


def _array_literal(values: list[Any]) -> str:
    """A one-dimensional PostgreSQL array literal: `{"1","2",NULL}`."""
    return "{" + ",".join("NULL" if v is None else _quoted(_element_text(v)) for v in values) + "}"


def _element_text(value: Any) -> str:
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if isinstance(value, datetime | date | time) else str(value)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _jsonable(value: Any) -> Any:
    """Arrow's Python values as JSON: maps (lists of pairs) become objects."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(p, tuple) and len(p) == 2 for p in value):
            return {str(k): _jsonable(v) for k, v in value}
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value
