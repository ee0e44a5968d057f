"""Encrypted columns in the tables the incremental kinds write (a `Target`).

The kinds compute on plaintext: the stored rows a kind reads (CDC, SCD2 snapshots, session
windows, `combine`) are opened before the engine sees them, and what it writes is sealed on
the way to Delta. A MERGE runs inside delta-rs on the stored bytes, where a fresh seal of an
unchanged value never equals the stored one (nonces are random), so before an upsert the
diff is *resealed against the table*: for each row whose key is stored, every encrypted
column whose plaintext did not change takes the stored ciphertext back. A key column then
matches its stored row byte for byte, an unchanged value is not rewritten, and re-applying
the same input still commits nothing. Only changed values and new rows get a new seal.

A value is reused only when the row's subject (the per-subject key's column) is unchanged
too, so a row never keeps a value sealed under another person's key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from afluente.model import TableRef
from afluente.storage.encrypted_write import BatchCipher, encrypted_schema, encrypting

_ROW = "__afluente_row"
_STORED = "__afluente_stored_"
_PLAIN = "__afluente_plain_"


@dataclass(frozen=True)
class TableSealing:
    """The encryption of one table's columns: `ref` names its keys and associated data (a
    scratch rebuild of the table uses its real name)."""

    cipher: BatchCipher
    ref: TableRef

    def columns(self, names: Sequence[str]) -> list[str]:
        """The columns among `names` (every column a write holds: the answer depends on
        the whole table) written encrypted."""
        return self.cipher.columns(self.ref, names)

    def is_sealed(self, column: str) -> bool:
        """Whether the stored `column` holds ciphertext (as recorded by its writes)."""
        return column.lower() in {c.lower() for c in self.cipher.encrypted(self.ref)}

    def sealed_in(self, schema: pa.Schema) -> list[str]:
        """The columns of a stored `schema` holding ciphertext."""
        encrypted = {c.lower() for c in self.cipher.encrypted(self.ref)}
        return [f.name for f in schema
                if f.name.lower() in encrypted and pa.types.is_binary(f.type)]

    def seal(self, data: pa.RecordBatchReader) -> pa.RecordBatchReader:
        return encrypting(data, self.ref, self.cipher)

    def sealed_fields(self, fields: Sequence[pa.Field], stored: Sequence[str]
                      ) -> list[pa.Field]:
        """`fields` to add to a table holding `stored`, an encrypted one as binary."""
        sealed = set(self.columns([*stored, *(f.name for f in fields)]))
        return [pa.field(f.name, pa.binary()) if f.name in sealed else f for f in fields]

    def open_batch(self, batch: pa.RecordBatch | pa.Table, columns: Sequence[str]
                   ) -> pa.RecordBatch | pa.Table:
        """`batch` with `columns` (ciphertext) replaced by their text."""
        for name in columns:
            index = batch.schema.get_field_index(name)
            values = batch.column(index)
            if isinstance(values, pa.ChunkedArray):
                values = values.combine_chunks()
            opened = self.cipher.decrypt(str(self.ref), name, values)
            batch = batch.set_column(index, pa.field(name, pa.string()), opened)
        return batch

    def opened(self, dataset: pads.Dataset) -> pads.Dataset:
        """`dataset` with its encrypted columns as text, in memory (the kinds join and
        compare on it); `dataset` itself when it has none."""
        columns = self.sealed_in(dataset.schema)
        if not columns:
            return dataset
        table = self.open_batch(dataset.to_table(), columns)
        assert isinstance(table, pa.Table)
        return pads.dataset(table)

    def resealed(self, diff: pa.Table, stored: pads.Dataset | None,
                 identity: Sequence[str], names: Sequence[str]) -> pa.Table:
        """`diff` (plaintext) sealed for a MERGE by `identity` into the stored rows: an
        encrypted value equal to its stored row's takes the stored ciphertext (see the
        module's docstring); every other one is sealed afresh. `names`: the table's
        columns among the diff's (not its bookkeeping ones)."""
        columns = self.columns(names)
        if not columns:
            return diff
        batch = diff.combine_chunks().to_batches()
        fresh = (pa.Table.from_batches([self.cipher.encrypt_batch(self.ref, b, columns)
                                        for b in batch],
                                       encrypted_schema(diff.schema, columns))
                 if batch else encrypted_schema(diff.schema, columns).empty_table())
        if stored is None:
            return fresh
        sealed_stored = self.sealed_in(stored.schema)
        subject = self._subject(diff.column_names)
        wanted = list(dict.fromkeys([*identity, *columns, *([subject] if subject else [])]))
        if any(c not in stored.schema.names for c in wanted):
            return fresh
        old = _rows_of_keys(stored, diff, identity, sealed_stored, wanted)
        key = next((c for c in identity if c in sealed_stored), None)
        if key is not None:  # an encrypted key: keep the rows of the diff's keys
            opened = self.cipher.decrypt(str(self.ref), key, old[key].combine_chunks())
            old = old.filter(pc.is_in(opened, value_set=_text(diff[key])))
        plain = self.open_batch(old, [c for c in wanted if c in sealed_stored])
        matched = _matched(diff, old, plain, identity, wanted)
        arrays = list(fresh.columns)
        same_subject = (None if subject is None else
                        _equal(_text(diff[subject]), matched[_PLAIN + subject]))
        for name in columns:
            if name not in sealed_stored:
                continue
            reuse = _equal(_text(diff[name]), matched[_PLAIN + name])
            if same_subject is not None and name != subject:
                reuse = pc.and_(reuse, same_subject)
            index = fresh.schema.get_field_index(name)
            arrays[index] = pc.if_else(reuse, matched[_STORED + name], fresh.column(index))
        return pa.Table.from_arrays(arrays, schema=fresh.schema)

    def _subject(self, names: Sequence[str]) -> str | None:
        subject = self.cipher.subject_column()
        return subject if subject is not None and subject in names else None


def _rows_of_keys(stored: pads.Dataset, diff: pa.Table, identity: Sequence[str],
                  sealed: Sequence[str], wanted: Sequence[str]) -> pa.Table:
    """`wanted` of the stored rows whose clear key columns hold a key of `diff` (read with
    the dataset's filter: only those rows are opened); every row when all keys are sealed."""
    where = None
    for column in identity:
        if column in sealed:
            continue
        try:
            values = pc.unique(_combined(diff[column])).cast(stored.schema.field(column).type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        term = pc.field(column).isin(values)
        where = term if where is None else where & term
    return stored.to_table(columns=list(wanted), filter=where)


def _as(values: pa.ChunkedArray | pa.Array, kind: pa.DataType) -> pa.Array:
    """`values` in the stored key's type (a timestamp's unit, an int's width), so that both
    sides of the key join have the same text; as they are when they do not convert."""
    values = _combined(values)
    if values.type == kind or pa.types.is_string(kind):
        return values
    try:
        return values.cast(kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return values


def _combined(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _text(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())


def _equal(left: pa.Array, right: pa.Array) -> pa.Array:
    """Row by row: both present and equal (a NULL on either side is never reused)."""
    return pc.fill_null(pc.equal(left, right), False)


def _matched(diff: pa.Table, old: pa.Table, plain: pa.Table | pa.RecordBatch,
             identity: Sequence[str], wanted: Sequence[str]) -> pa.Table:
    """For each row of `diff` (in order), its stored row's ciphertext (`__afluente_stored_*`)
    and text (`__afluente_plain_*`) of `wanted`; NULLs when its key is not stored."""
    keys = [f"__afluente_key_{i}" for i in range(len(identity))]
    left = pa.table({**{k: _text(_as(diff[c], plain.schema.field(c).type))
                        for k, c in zip(keys, identity, strict=True)},
                     _ROW: pa.array(range(diff.num_rows), pa.int64())})
    right = pa.table({
        **{k: _text(plain.column(c)) for k, c in zip(keys, identity, strict=True)},
        **{_STORED + c: old[c] for c in wanted},
        **{_PLAIN + c: _text(plain.column(c)) for c in wanted},
    })
    joined = left.join(right, keys, join_type="left outer")
    if joined.num_rows != diff.num_rows:  # a key stored twice: reuse its first row's
        joined = joined.group_by(_ROW, use_threads=False).aggregate(
            [(c, "first") for c in joined.column_names if c != _ROW and c not in keys])
        joined = joined.rename_columns([c.removesuffix("_first") for c in joined.column_names])
    return joined.sort_by(_ROW).combine_chunks()
