"""Encrypted columns on write: the rows going to a Delta table pass through an encryptor
that replaces the values of some columns with ciphertext (binary) before any file is
written. The encryptor (keys, AES-GCM) is governance's; storage only asks it, so every
write path — the Delta writer and the files an engine staged — encrypts the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import pyarrow as pa

from afluente.model import TableRef


class BatchEncryptor(Protocol):
    """Which columns of a table are stored encrypted, and their encryption."""

    def columns(self, ref: TableRef, names: Sequence[str]) -> list[str]:
        """The columns of `ref` (among `names`) to store as ciphertext; [] for none."""

    def encrypt_batch(self, ref: TableRef, batch: pa.RecordBatch,
                      columns: Sequence[str]) -> pa.RecordBatch:
        """`batch` with `columns` replaced by their ciphertext (binary)."""


class BatchCipher(BatchEncryptor, Protocol):
    """An encryptor that also opens what it sealed (the incremental kinds read their own
    table's rows as plaintext: `sealed_target`)."""

    def encrypted(self, ref: TableRef) -> set[str]:
        """The columns of `ref` written encrypted."""

    def decrypt(self, table: str, column: str, values: pa.Array) -> pa.Array:
        """The text of `values`, ciphertext of `table.column`."""

    def subject_column(self) -> str | None:
        """The column whose value picks a row's key (per-subject keys), if any."""


def encrypted_schema(schema: pa.Schema, columns: Sequence[str]) -> pa.Schema:
    """`schema` with `columns` as binary (their ciphertext's type)."""
    for name in columns:
        index = schema.get_field_index(name)
        schema = schema.set(index, pa.field(name, pa.binary(), nullable=True))
    return schema


def encrypting(data: pa.RecordBatchReader, ref: TableRef,
               encryptor: BatchEncryptor | None) -> pa.RecordBatchReader:
    """`data` with the columns `encryptor` names for `ref` encrypted, batch by batch (still
    a stream); `data` itself when none is."""
    if encryptor is None:
        return data
    columns = encryptor.columns(ref, data.schema.names)
    if not columns:
        return data
    schema = encrypted_schema(data.schema, columns)

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in data:
            yield encryptor.encrypt_batch(ref, batch, columns).cast(schema)

    return pa.RecordBatchReader.from_batches(schema, batches())
