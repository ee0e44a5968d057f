"""Encrypted columns on read: DuckDB has no AES-GCM, so a table whose columns are stored
encrypted is attached as a view that opens them with a vectorised Python function
(`afluente_decrypt`, Arrow batches in and out). Only the columns a query reads are opened;
the governed reader's masks and filters then apply to the opened text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import duckdb
from duckdb.func import FunctionNullHandling, PythonUDFType

from afluente.model import TableRef
from afluente.sql_text import DUCKDB
from afluente.sql_text import ident as quote

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as pads

FUNCTION = "afluente_decrypt"
CDC_STORAGE = "__cdc_storage"


class ColumnDecryptor(Protocol):
    """Which columns of a table are stored encrypted, and their decryption."""

    def encrypted(self, ref: TableRef) -> set[str]:
        """The columns of `ref` stored as ciphertext."""

    def decrypt(self, table: str, column: str, values: pa.Array) -> pa.Array:
        """The plaintext (text) of `values`, ciphertext of `table.column`."""


def register(connection: duckdb.DuckDBPyConnection, decryptor: ColumnDecryptor) -> None:
    """`afluente_decrypt(table, column, value)` on `connection`."""

    def opened(table: Any, column: Any, values: Any) -> Any:  # DuckDB reads these
        if len(values) == 0:
            import pyarrow as pa

            return pa.array([], pa.string())
        return decryptor.decrypt(str(table[0]), str(column[0]), values)

    connection.create_function(
        FUNCTION, opened, [duckdb.sqltype("VARCHAR"), duckdb.sqltype("VARCHAR"),
                           duckdb.sqltype("BLOB")], duckdb.sqltype("VARCHAR"),
        type=PythonUDFType.ARROW, null_handling=FunctionNullHandling.SPECIAL,
        side_effects=False)


def sealed_as(ref: TableRef) -> TableRef:
    """The table whose keys sealed `ref`'s columns: an apply_changes table is attached as
    `<table>__cdc_storage` under its visible view (runtime/incremental_views.py)."""
    if ref.name.endswith(CDC_STORAGE):
        return TableRef(ref.layer, ref.name.removesuffix(CDC_STORAGE))
    return ref


def projection(ref: TableRef, schema: pa.Schema, decryptor: ColumnDecryptor) -> str | None:
    """The SELECT list that opens `ref`'s encrypted binary columns; None when it has none."""
    import pyarrow as pa

    table = sealed_as(ref)
    encrypted = decryptor.encrypted(table)
    opened = {f.name for f in schema if f.name in encrypted and pa.types.is_binary(f.type)}
    if not opened:
        return None
    return ", ".join(_item(table, name, name in opened) for name in schema.names)


def opened_table(ref: TableRef, data: pads.Dataset | pa.Table, decryptor: ColumnDecryptor
                 ) -> pads.Dataset | pa.Table:
    """`data` with `ref`'s encrypted columns opened to text, in this process (an engine
    without a Python function in its scans: Spark, whose executors then never hold a key);
    `data` itself when it has none. The whole table is read into memory."""
    import pyarrow as pa

    table = sealed_as(ref)
    encrypted = decryptor.encrypted(table)
    columns = [f.name for f in data.schema
               if f.name in encrypted and pa.types.is_binary(f.type)]
    if not columns:
        return data
    opened = data if isinstance(data, pa.Table) else data.to_table()
    for name in columns:
        index = opened.schema.get_field_index(name)
        values = opened.column(index).combine_chunks()
        opened = opened.set_column(index, pa.field(name, pa.string()),
                                   decryptor.decrypt(str(table), name, values))
    return opened


def _item(ref: TableRef, name: str, opened: bool) -> str:
    if not opened:
        return quote(name)
    args = f"{DUCKDB.string(str(ref))}, {DUCKDB.string(name)}, {quote(name)}"
    return f"{FUNCTION}({args}) AS {quote(name)}"
