"""The store's tables as Arrow tables (what ``afluente query`` exposes as afluente.runs etc.).

pyarrow is imported here only, and this module only when an export is asked for, so that
commands which never export stay quick to start.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from sqlalchemy import BigInteger, Boolean, Float, Integer, Table
from sqlalchemy.types import TypeEngine

from afluente.state.coltypes import UTCDateTime


def arrow_type(column_type: TypeEngine[Any]) -> pa.DataType:
    """The Arrow type of a store column; JSON and text columns are strings."""
    if isinstance(column_type, UTCDateTime):
        return pa.timestamp("us", tz="UTC")
    if isinstance(column_type, Boolean):
        return pa.bool_()
    if isinstance(column_type, Integer | BigInteger):
        return pa.int64()
    if isinstance(column_type, Float):
        return pa.float64()
    return pa.string()


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema(
        [pa.field(c.name, arrow_type(c.type), nullable=c.nullable) for c in table.columns]
    )


def to_arrow_table(table: Table, rows: Sequence[Sequence[Any]]) -> pa.Table:
    """Rows (in the table's column order, JSON left as text) as a typed Arrow table."""
    schema = arrow_schema(table)
    columns = [
        pa.array([row[i] for row in rows], type=field.type) for i, field in enumerate(schema)
    ]
    return pa.Table.from_arrays(columns, schema=schema)
