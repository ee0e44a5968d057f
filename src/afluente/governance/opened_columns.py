"""Encrypted columns opened for the searches that run as ADMIN and read stored files with
Arrow rather than through an engine: `forget`'s and `subject export`'s row search and
`classify`'s samples. A column is opened only when it is stored as ciphertext (binary, and
recorded by the keyring as encrypted); a subject whose key was destroyed reads as NULL.

The search reads the same files several times (each round until no new identifier turns
up, then the rewrite): a value opened once is kept (by its ciphertext) for the opener's
life, up to `KEPT` values, so later passes cost a lookup instead of a decryption."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from afluente.config import Project

if TYPE_CHECKING:
    from afluente.governance.column_cipher import ColumnCipher


KEPT = 4_000_000  # opened values kept per opener (~0.2 KiB each)


class ColumnOpener:
    """Opens the encrypted columns of stored tables; a no-op without `governance.encryption`."""

    def __init__(self, cipher: ColumnCipher | None) -> None:
        self._cipher = cipher
        self._encrypted: dict[str, set[str]] = {}
        self._opened: dict[tuple[str, str], dict[bytes, str | None]] = {}
        self._kept = 0

    @classmethod
    def of(cls, project: Project) -> ColumnOpener:
        from afluente.governance.column_cipher import encryption_declared, open_cipher

        return cls(open_cipher(project) if encryption_declared(project) else None)

    def close(self) -> None:
        if self._cipher is not None:
            self._cipher.ring.close()

    def sealed(self, table: str, column: str, values: pa.ChunkedArray | pa.Array) -> bool:
        """Whether `values` (the column `table.column` as stored) is ciphertext to open."""
        if self._cipher is None or not pa.types.is_binary(values.type):
            return False
        if table not in self._encrypted:
            self._encrypted[table] = {c.lower() for c in
                                      self._cipher.ring.encrypted_columns(table)}
        return column.lower() in self._encrypted[table]

    def column(self, table: str, column: str, values: pa.ChunkedArray) -> pa.ChunkedArray:
        """The column's text when it is stored encrypted, else `values` unchanged."""
        if self._cipher is None or not self.sealed(table, column, values):
            return values
        return pa.chunked_array([self._open(table, column, chunk) for chunk in values.chunks],
                                pa.string())

    def _open(self, table: str, column: str, chunk: pa.Array) -> pa.Array:
        assert self._cipher is not None
        kept = self._opened.setdefault((table, column), {})
        blobs: list[bytes | None] = chunk.to_pylist()
        new = list({b for b in blobs if b is not None and b not in kept})
        if new:
            if self._kept + len(new) > KEPT:
                for known in self._opened.values():
                    known.clear()
                self._kept = 0
            opened = self._cipher.decrypt(table, column, pa.array(new, pa.binary()))
            kept.update(zip(new, opened.to_pylist(), strict=True))
            self._kept += len(new)
        return pa.array([None if b is None else kept[b] for b in blobs], pa.string())

    def table(self, table: str, data: pa.Table) -> pa.Table:
        """`data` (rows of `table` as stored) with every encrypted column opened."""
        for index, name in enumerate(data.column_names):
            if self.sealed(table, name, data.column(index)):
                data = data.set_column(index, name, self.column(table, name, data.column(index)))
        return data
