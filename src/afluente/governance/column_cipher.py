"""Column encryption with AES-GCM: which stored columns hold ciphertext, and the sealing and
opening of their values (`governance.encryption`, docs/governance.md).

A value is stored as binary:

| bytes | meaning |
|---|---|
| `01` nonce(12) ciphertext+tag | sealed with the table's first data key |
| `03` generation(2) nonce(12) ciphertext+tag | sealed with a later one (`--reencrypt`) |
| `02` subject id(12) nonce(12) ciphertext+tag | sealed with the key of the row's subject |

Nonces are random (96 bits) per value. The associated data is `table.column`, so a
ciphertext moved to another column or table does not open. Values are sealed as text (a
date reads back as its ISO text). A subject whose key was destroyed reads as NULL.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from afluente.config import Project
from afluente.config.governance import EncryptionSpec
from afluente.errors import EncryptionKeyError
from afluente.governance.keyring import SUBJECT_ID_BYTES, KeyRing
from afluente.model import TableRef

if TYPE_CHECKING:
    from afluente.engines import Engine

TABLE_SEALED = 1
SUBJECT_SEALED = 2
TABLE_SEALED_AGAIN = 3  # under a later generation of the table's data key
_NONCE = 12
_CACHED = 2_000_000  # subject keys kept open per process (~100 bytes each)
Personal = Callable[[TableRef, Sequence[str]], Collection[str]]


class ColumnCipher:
    """Seals the encrypted columns of a write and opens them on a read."""

    def __init__(self, spec: EncryptionSpec, ring: KeyRing, personal: Personal | None = None
                 ) -> None:
        self.spec = spec
        self.ring = ring
        self._personal = personal if spec.pii else None
        self._chosen: dict[tuple[TableRef, tuple[str, ...]], list[str]] = {}
        #: subject keys opened in this process (each is unwrapped once, not per value)
        self._sealing: dict[str, tuple[bytes, AESGCM]] = {}
        self._opening: dict[bytes, AESGCM] = {}

    # -- writes (storage's BatchEncryptor) ---------------------------------------------
    def columns(self, ref: TableRef, names: Sequence[str]) -> list[str]:
        """The columns of `ref` stored encrypted: those named in `columns`, and with `pii`
        those holding personal data (tagged, or linked to a tagged one by lineage)."""
        memo = (ref, tuple(names))
        if memo not in self._chosen:
            wanted = {c.rpartition(".")[2] for c in self.spec.columns
                      if c.rpartition(".")[0] == str(ref).lower()}
            if self._personal is not None:
                wanted |= {c.lower() for c in self._personal(ref, names)}
            # a column once stored encrypted stays so (whatever lineage says today)
            wanted |= {c.lower() for c in self.ring.encrypted_columns(str(ref))}
            chosen = [n for n in names if n.lower() in wanted]
            if chosen:
                self.ring.record_columns(str(ref), chosen)
            self._chosen[memo] = chosen
        return self._chosen[memo]

    def encrypt_batch(self, ref: TableRef, batch: pa.RecordBatch,
                      columns: Sequence[str]) -> pa.RecordBatch:
        subjects = self._subjects(batch)
        keys = self._subject_keys(subjects) if subjects else {}
        arrays = list(batch.columns)
        for column in columns:
            index = batch.schema.get_field_index(column)
            values = _text(batch.column(index)).to_pylist()
            arrays[index] = pa.array(self._seal(str(ref), column, values, subjects, keys),
                                     pa.binary())
        return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)

    def _subject_keys(self, subjects: list[str | None]) -> dict[str, tuple[bytes, AESGCM]]:
        new = {s for s in subjects if s is not None and s not in self._sealing}
        if new:
            if len(self._sealing) > _CACHED:
                self._sealing.clear()
            made = self.ring.subject_keys(new)
            self._sealing.update({v: (i, AESGCM(k)) for v, (i, k) in made.items()})
        return self._sealing

    def _subjects(self, batch: pa.RecordBatch) -> list[str | None] | None:
        name = self.spec.subject
        if name is None or name not in batch.schema.names:
            return None
        return list(_text(batch.column(name)).to_pylist())

    def _seal(self, table: str, column: str, values: list[Any],
              subjects: list[str | None] | None,
              keys: dict[str, tuple[bytes, AESGCM]]) -> list[bytes | None]:
        aad = _aad(table, column)
        nonces = os.urandom(_NONCE * len(values))
        generation = self.ring.generation(table)
        by_table = AESGCM(self.ring.data_key(self.ring.table_scope(table, generation)))
        head = bytes((TABLE_SEALED,)) if generation == 0 else bytes(
            (TABLE_SEALED_AGAIN,)) + generation.to_bytes(2, "big")
        sealed: list[bytes | None] = []
        for i, value in enumerate(values):
            if value is None:
                sealed.append(None)
                continue
            nonce = nonces[_NONCE * i:_NONCE * (i + 1)]
            subject = subjects[i] if subjects is not None else None
            if subject is None:
                sealed.append(head + nonce + by_table.encrypt(nonce, value.encode(), aad))
                continue
            subject_id, aead = keys[subject]
            sealed.append(bytes((SUBJECT_SEALED,)) + subject_id + nonce
                          + aead.encrypt(nonce, value.encode(), aad))
        return sealed

    def subject_column(self) -> str | None:
        """The column whose value picks a row's key (`subject`), if declared."""
        return self.spec.subject

    # -- reads (the engine's decryptor) ------------------------------------------------
    def encrypted(self, ref: TableRef) -> set[str]:
        """The columns of `ref` written encrypted."""
        return self.ring.encrypted_columns(str(ref))

    def decrypt(self, table: str, column: str, values: pa.Array) -> pa.Array:
        """The text of each sealed value; NULL for a subject whose key was destroyed."""
        blobs = values.to_pylist()
        start, end = 1, 1 + SUBJECT_ID_BYTES
        ids = {b[start:end] for b in blobs if b and b[0] == SUBJECT_SEALED}
        keys = self._opened_keys(ids)
        generations = {int.from_bytes(b[1:3], "big") for b in blobs
                       if b and b[0] == TABLE_SEALED_AGAIN}
        by_table = {g: AESGCM(self.ring.data_key(self.ring.table_scope(table, g)))
                    for g in {0, *generations}}
        aad = _aad(table, column)
        opened: list[str | None] = []
        try:
            for blob in blobs:
                opened.append(_open(blob, by_table, keys, aad))
        except (InvalidTag, ValueError, IndexError):
            raise EncryptionKeyError(
                f"a value of {table}.{column} does not decrypt with its key (table key "
                f"table:{table} or a subject key, under master key {self.ring.kek.key_id})",
                table=table,
                hint="the ciphertext was changed or moved from another column") from None
        return pa.array(opened, pa.string())

    def _opened_keys(self, ids: set[bytes]) -> dict[bytes, AESGCM]:
        """The keys of these subject ids (a destroyed one is absent)."""
        new = ids - self._opening.keys()
        if new:
            if len(self._opening) > _CACHED:
                self._opening.clear()
            self._opening.update({i: AESGCM(k) for i, k in self.ring.keys_by_id(new).items()})
        return self._opening


def _open(blob: bytes | None, by_table: dict[int, AESGCM], keys: dict[bytes, AESGCM],
          aad: bytes) -> str | None:
    if blob is None:
        return None
    if blob[0] == TABLE_SEALED:
        return by_table[0].decrypt(blob[1:1 + _NONCE], blob[1 + _NONCE:], aad).decode()
    if blob[0] == TABLE_SEALED_AGAIN:
        nonce = blob[3:3 + _NONCE]
        return by_table[int.from_bytes(blob[1:3], "big")].decrypt(
            nonce, blob[3 + _NONCE:], aad).decode()
    if blob[0] != SUBJECT_SEALED:
        raise ValueError("unknown ciphertext format")
    end = 1 + SUBJECT_ID_BYTES
    aead = keys.get(blob[1:end])
    if aead is None:  # the subject's key was destroyed: crypto-shredded
        return None
    return aead.decrypt(blob[end:end + _NONCE], blob[end + _NONCE:], aad).decode()


def _aad(table: str, column: str) -> bytes:
    return f"afluente:{table}.{column}".lower().encode()


def _text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if pa.types.is_string(values.type):
        return values
    return pc.cast(values, pa.string())


def keyring_path(project: Project, spec: EncryptionSpec) -> Any:
    return project.root / spec.keyring


def encryption_declared(project: Project) -> bool:
    governance = project.config.governance
    return governance is not None and governance.encryption is not None


def decrypting(engine: Engine, project: Project) -> Engine:
    """`engine`, opening the encrypted columns of the tables attached to it from now on."""
    cipher = open_cipher(project)
    if cipher is not None:
        engine.use_decryptor(cipher)
    return engine


def open_cipher(project: Project, personal: Personal | None = None) -> ColumnCipher | None:
    """The project's column cipher (its keyring opened, the master key checked); None when
    `governance.encryption` is not declared."""
    governance = project.config.governance
    spec = governance.encryption if governance is not None else None
    if spec is None:
        return None
    return ColumnCipher(spec, KeyRing.open(keyring_path(project, spec), spec.key), personal)
