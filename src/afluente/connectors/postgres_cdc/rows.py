"""Snapshot rows and decoded changes as bronze record batches.

Every captured table's columns (typed from the catalog: the same OIDs the `pgoutput`
relation messages carry) are unioned into one schema, so each micro-batch has the same
columns whichever tables it touched. Values arrive as PostgreSQL's text form and are typed
by psycopg's own loaders; a value that does not load (a date `infinity`...) is NULL in its
column and kept as text in `_rescued_data`. Then come the change columns:

* `_op`: `snapshot`, `insert`, `update`, `delete` or `truncate`;
* `_table`: `schema.table`;
* `_lsn`: the commit LSN of the change's transaction (PostgreSQL's `X/Y` notation; the
  slot's consistent point for snapshot rows), `_commit_ts` its commit time (UTC; the
  snapshot's time for snapshot rows), `_xid` its transaction id;
* `_seq`: the change's position in its transaction (1, 2, ...; 0 for snapshot rows); an
  update of a row's key is two changes, a `delete` of the old key then an `insert`;
* `_sequence`: one text that sorts like (commit LSN, `_seq`) — give it to apply_changes as
  `sequence_by`: it orders every key's changes as PostgreSQL committed them;
* `_before`: for an update (or the insert of a key change), the old key or row as JSON
  when the server sent it (the key changed, or REPLICA IDENTITY FULL).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pyarrow as pa

from afluente.connectors.database.postgres import ARROW_TYPES
from afluente.connectors.postgres_cdc.pgoutput import UNCHANGED, Change, Transaction, lsn_text
from afluente.connectors.protocol import RESCUED_COLUMN, SOURCE_COLUMN

NUMERIC = 1700
CHANGE_FIELDS = [
    pa.field("_op", pa.string()),
    pa.field("_table", pa.string()),
    pa.field("_lsn", pa.string()),
    pa.field("_commit_ts", pa.timestamp("us", tz="UTC")),
    pa.field("_xid", pa.int64()),
    pa.field("_seq", pa.int64()),
    pa.field("_sequence", pa.string()),
    pa.field("_before", pa.string()),
]
RESERVED = {f.name for f in CHANGE_FIELDS} | {SOURCE_COLUMN, RESCUED_COLUMN}

Loader = Callable[[str], object]


def sequence_text(commit_lsn: int, seq: int) -> str:
    """Sorts as (commit LSN, position in the transaction) do: fixed-width hex, then digits."""
    return f"{commit_lsn:016X}-{seq:010d}"


def numeric_type(typmod: int) -> pa.DataType | None:
    """NUMERIC(p, s) as an Arrow decimal; None for an unbounded NUMERIC (kept as text)."""
    if typmod < 4:
        return None
    precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
    return pa.decimal128(precision, scale) if 0 < precision <= 38 else None


@dataclass(frozen=True)
class ColumnType:
    arrow: pa.DataType
    oid: int  # the OID whose loader types its text; 0: kept as text


def column_type(oid: int, typmod: int) -> ColumnType:
    """The bronze type of a PostgreSQL column; text for the types without an exact one."""
    if oid == NUMERIC:
        decimal = numeric_type(typmod)
        return ColumnType(decimal, oid) if decimal is not None else ColumnType(pa.string(), 0)
    if oid in ARROW_TYPES:
        return ColumnType(ARROW_TYPES[oid], oid)
    return ColumnType(pa.string(), 0)


@dataclass(frozen=True)
class Shape:
    """The bronze schema of a source: its tables' columns (name -> type), then the change
    columns; `loaders` type each column's text."""

    columns: dict[str, ColumnType]
    loaders: dict[str, Loader]
    source_prefix: str  # `postgres://host:port/database/`

    @property
    def schema(self) -> pa.Schema:
        data = [pa.field(n, t.arrow) for n, t in self.columns.items()]
        return pa.schema([*data, pa.field(SOURCE_COLUMN, pa.string()),
                          pa.field(RESCUED_COLUMN, pa.string()), *CHANGE_FIELDS])


class RowBuilder:
    """Collects rows (one dict each) and hands them over as record batches."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.rows: list[dict[str, Any]] = []

    def add(self, table: str, names: Sequence[str], values: Sequence[object],
            meta: Mapping[str, Any]) -> None:
        row: dict[str, Any] = {SOURCE_COLUMN: self.shape.source_prefix + table,
                               "_table": table, **meta}
        rescued: dict[str, str] = {}
        for name, value in zip(names, values, strict=True):
            if value is None or value is UNCHANGED or name not in self.shape.columns:
                continue
            text = str(value)
            try:
                row[name] = self.shape.loaders[name](text)
            except Exception as exc:  # psycopg raises DataError and others for odd values
                rescued[name] = text
                rescued.setdefault("_error", f"`{name}`: {exc}")
        if rescued:
            row[RESCUED_COLUMN] = json.dumps(rescued, ensure_ascii=False)
        self.rows.append(row)

    def add_change(self, change: Change, transaction: Transaction, seq: int) -> None:
        relation = change.relation
        names = [c.name for c in relation.columns]
        meta = {
            "_op": change.op,
            "_lsn": lsn_text(transaction.commit_lsn),
            "_commit_ts": transaction.commit_time,
            "_xid": transaction.xid,
            "_seq": seq,
            "_sequence": sequence_text(transaction.commit_lsn, seq),
        }
        if change.op == "truncate":
            self.add(relation.qualified, [], [], meta)
            return
        values = change.new if change.new is not None else change.old
        assert values is not None
        if change.new is not None and change.old is not None:
            values = _fill_unchanged(values, change.old)
            meta["_before"] = _before(names, change.old, change.old_is_key,
                                      [c.key for c in relation.columns])
        self.add(relation.qualified, names, values, meta)

    def add_snapshot(self, table: str, names: Sequence[str], values: Sequence[object],
                     lsn: int, taken_at: datetime) -> None:
        meta = {"_op": "snapshot", "_lsn": lsn_text(lsn), "_commit_ts": taken_at,
                "_seq": 0, "_sequence": sequence_text(lsn, 0)}
        self.add(table, names, values, meta)

    def take(self) -> pa.RecordBatch:
        batch = pa.RecordBatch.from_pylist(self.rows, schema=self.shape.schema)
        self.rows = []
        return batch


def _fill_unchanged(new: Sequence[object], old: Sequence[object]) -> tuple[object, ...]:
    """A TOASTed value the update did not change is not sent again: take the old row's."""
    return tuple(o if n is UNCHANGED else n for n, o in zip(new, old, strict=True))


def _before(names: Sequence[str], old: Sequence[object], only_key: bool,
            keys: Sequence[bool]) -> str:
    kept = {
        name: value for name, value, key in zip(names, old, keys, strict=True)
        if value is not UNCHANGED and (key or not only_key)
    }
    return json.dumps(kept, ensure_ascii=False)


def split_key_change(change: Change) -> list[Change]:
    """An update that changed the row's key as a `delete` of the old key, then an `insert`
    of the new row (with the old key in `_before`), so that apply_changes closes the old
    key's version; any other change as it is."""
    if change.op != "update" or change.old is None or change.new is None:
        return [change]
    keys = [i for i, column in enumerate(change.relation.columns) if column.key]
    if all(change.old[i] == change.new[i] for i in keys):
        return [change]
    return [replace(change, op="delete", new=None), replace(change, op="insert")]


def transactions_rows(builder: RowBuilder, transactions: Iterable[Transaction]) -> int:
    """Adds the rows of every change of `transactions`; returns how many."""
    count = 0
    for transaction in transactions:
        seq = 0
        for change in transaction.changes:
            for row in split_key_change(change):
                seq += 1
                builder.add_change(row, transaction, seq)
        count += seq
    return count
