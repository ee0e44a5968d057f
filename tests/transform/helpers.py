"""Reading the tables the kinds write, as sets of tuples, for value assertions."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa
from deltalake import DeltaTable

from afluente.transform import Target, visible_rows_sql


def table_of(rows: Sequence[dict[str, object]]) -> pa.Table:
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("seq", pa.int64()),
            ("op", pa.string()),
            ("v", pa.string()),
            ("w", pa.int64()),
        ]
    )
    return pa.Table.from_pylist(list(rows), schema=schema)


def visible(target: Target, columns: str) -> set[tuple[object, ...]]:
    """The user-facing rows of an apply-changes table (no bookkeeping rows)."""
    if not DeltaTable.is_deltatable(target.uri):
        return set()
    con = duckdb.connect()
    con.register("t", DeltaTable(target.uri).to_pyarrow_dataset())
    return set(con.sql(f"SELECT {columns} FROM ({visible_rows_sql('t', 1)})").fetchall())


def plain(target: Target, columns: str) -> set[tuple[object, ...]]:
    if not DeltaTable.is_deltatable(target.uri):
        return set()
    con = duckdb.connect()
    con.register("t", DeltaTable(target.uri).to_pyarrow_dataset())
    return set(con.sql(f"SELECT {columns} FROM t").fetchall())


def version(target: Target) -> int | None:
    if not DeltaTable.is_deltatable(target.uri):
        return None
    return DeltaTable(target.uri).version()
