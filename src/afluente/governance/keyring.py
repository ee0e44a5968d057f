"""The keyring: the data keys of encrypted columns, wrapped by the master key (envelope).

One SQLite file (`.afluente/keyring.db`, `governance.encryption.keyring`):

- `meta`: the master key's id and source kind; for a passphrase, scrypt's salt and cost;
- `data_keys`: one data key per table (`table:silver.customers`) and one for the subjects
  (`subjects`), each wrapped by the master key;
- `subject_keys`: one key per data subject, wrapped by the subjects' data key, found by a
  keyed hash of the subject's value (the value itself is never stored) and named by a
  random id (what the ciphertext carries);
- `retired_subject_keys`: the earlier generations of subject keys (`keys rotate
  --reencrypt` gives every subject a new key and id), kept so the Delta versions written
  under them still read; destroyed with the subject's current key;
- `encrypted_columns`: which columns of which tables hold ciphertext (what a read opens).

Destroying a subject's rows (`shred`: every generation) leaves their ciphertext everywhere
undecryptable: crypto-shredding. SQLite's `secure_delete` overwrites the deleted row's
bytes in the file. Rotation re-wraps every data key under a new master key in one
transaction: interrupted, the keyring is left as it was.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from afluente.config.governance import KeySpec
from afluente.errors import EncryptionKeyError
from afluente.governance.kek import KEY_BYTES, NONCE_BYTES, SCRYPT_N, KeyEncryptionKey, open_kek

SUBJECTS = "subjects"
SUBJECT_ID_BYTES = 12
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS data_keys (scope TEXT PRIMARY KEY, wrapped BLOB NOT NULL,
    kek_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subject_keys (lookup BLOB PRIMARY KEY, id BLOB NOT NULL UNIQUE,
    wrapped BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS encrypted_columns (tbl TEXT NOT NULL, col TEXT NOT NULL,
    PRIMARY KEY (tbl, col));
CREATE TABLE IF NOT EXISTS retired_subject_keys (id BLOB PRIMARY KEY, lookup BLOB NOT NULL,
    wrapped BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS retired_subject_lookup ON retired_subject_keys (lookup);
"""
_CHUNK = 500  # subject lookups per statement


@dataclass(frozen=True)
class KeyringStatus:
    path: str
    kek_id: str
    source: str
    data_keys: int
    subject_keys: int
    encrypted_columns: dict[str, list[str]]
    retired_subject_keys: int = 0  # earlier generations, for the versions written under them


class KeyRing:
    """An open keyring whose master key has been checked."""

    def __init__(self, path: Path, connection: sqlite3.Connection, kek: KeyEncryptionKey
                 ) -> None:
        self.path = path
        self._db = connection
        self.kek = kek
        self._lock = threading.RLock()  # data_key is asked under it
        self._keys: dict[str, bytes] = {}
        self._subject_wrap: AESGCM | None = None

    # -- opening -----------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path, spec: KeySpec) -> KeyRing:
        """A new keyring under the master key `spec` names (refused if one exists)."""
        if path.exists():
            raise EncryptionKeyError(f"a keyring already exists at {path}",
                                     hint="`afluente keys status` shows it; `afluente keys "
                                          "rotate` changes its master key")
        path.parent.mkdir(parents=True, exist_ok=True)
        salt = os.urandom(16) if spec.source == "passphrase" else None
        kek = open_kek(spec, salt, SCRYPT_N)
        path.touch(mode=0o600)  # only its owner reads the wrapped keys
        db = _connect(path)
        with db:
            db.executescript(_SCHEMA)
            _set_meta(db, kek, spec.source, salt, SCRYPT_N)
        ring = cls(path, db, kek)
        ring.data_key(SUBJECTS)
        return ring

    @classmethod
    def open(cls, path: Path, spec: KeySpec) -> KeyRing:
        """The keyring at `path`, its master key checked against the one it was made with
        (a wrong passphrase or key is refused here, before anything is written)."""
        if not path.is_file():
            raise EncryptionKeyError(f"no keyring at {path}: encrypted columns need one",
                                     hint="create it with `afluente keys init`")
        db = _connect(path)
        meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
        n = int(meta.get("scrypt_n", SCRYPT_N))
        kek = open_kek(spec, meta.get("salt"), n)
        _check(kek, meta)
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'retired_subject_keys'"
                      ).fetchone() is None:  # a keyring made before subject key rotation
            with db:
                db.executescript(_SCHEMA)
        return cls(path, db, kek)

    def close(self) -> None:
        self._db.close()

    # -- data keys ---------------------------------------------------------------------
    def data_key(self, scope: str) -> bytes:
        """The data key of `scope` (`table:layer.name`, `subjects`), made on first use."""
        with self._lock:
            if scope not in self._keys:
                self._keys[scope] = self._load_or_make(scope)
            return self._keys[scope]

    def _load_or_make(self, scope: str) -> bytes:
        row = self._db.execute("SELECT wrapped FROM data_keys WHERE scope = ?",
                               (scope,)).fetchone()
        if row is not None:
            return self._unwrap(row[0], scope)
        key = os.urandom(KEY_BYTES)
        with self._db:
            self._db.execute("INSERT INTO data_keys VALUES (?, ?, ?)",
                             (scope, self.kek.wrap(key, scope.encode()), self.kek.key_id))
        return key

    def _unwrap(self, wrapped: bytes, scope: str) -> bytes:
        """A data key opened by the master key (a KMS plug-in's own error translated)."""
        try:
            return self.kek.unwrap(wrapped, scope.encode())
        except EncryptionKeyError:
            raise
        except Exception as exc:
            raise EncryptionKeyError(
                f"the master key {self.kek.key_id} ({self.kek.source}) does not open the "
                f"data key {scope!r}: {type(exc).__name__}",
                hint="check the KMS key and its permissions; nothing was written") from None

    def generation(self, table: str) -> int:
        """The newest generation of `table`'s data key (0: the first; `--reencrypt` adds
        one, kept as `table:NAME#GEN`; older ones stay for the versions written with them)."""
        prefix = f"table:{table}#"
        with self._lock:
            rows = self._db.execute(
                "SELECT scope FROM data_keys WHERE substr(scope, 1, ?) = ?",
                (len(prefix), prefix)).fetchall()
        found = [int(r[0][len(prefix):]) for r in rows if r[0][len(prefix):].isdigit()]
        return max(found, default=0)

    @staticmethod
    def table_scope(table: str, generation: int) -> str:
        return f"table:{table}" + (f"#{generation}" if generation else "")

    # -- subject keys ------------------------------------------------------------------
    def lookup(self, value: str) -> bytes:
        """The keyed hash a subject's value is found by (never the value), of its normal
        form: `ANA@x.com` and `ana@x.com`, `123.456.789-09` and `12345678909` are one."""
        return hmac.new(self.data_key(SUBJECTS), normal(value).encode(),
                        hashlib.sha256).digest()

    def subject_keys(self, values: Iterable[str]) -> dict[str, tuple[bytes, bytes]]:
        """Each value → (its subject id, its key), making the missing ones."""
        wanted = {value: self.lookup(value) for value in set(values)}
        found = self._by_lookup(list(wanted.values()))
        missing = [(v, h) for v, h in wanted.items() if h not in found]
        if missing:
            made = {h: (os.urandom(SUBJECT_ID_BYTES), os.urandom(KEY_BYTES)) for _, h in missing}
            with self._lock, self._db:
                self._db.executemany(
                    "INSERT OR IGNORE INTO subject_keys VALUES (?, ?, ?)",
                    [(h, i, self._wrap_subject(i, k)) for h, (i, k) in made.items()])
            found.update(self._by_lookup([h for _, h in missing]))
        return {value: found[h] for value, h in wanted.items()}

    def keys_by_lookup(self, values: Iterable[str]) -> dict[bytes, tuple[bytes, bytes]]:
        """The existing keys of these subject values (none made)."""
        return self._by_lookup([self.lookup(v) for v in values])

    def keys_by_id(self, ids: Iterable[bytes]) -> dict[bytes, bytes]:
        """Each subject id → its key; a destroyed (shredded) id is absent."""
        wanted = list(set(ids))
        found: dict[bytes, bytes] = {}
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            with self._lock:
                rows = self._db.execute(
                    f"SELECT id, wrapped FROM subject_keys WHERE id IN ({marks}) UNION ALL "
                    f"SELECT id, wrapped FROM retired_subject_keys WHERE id IN ({marks})",
                    chunk + chunk).fetchall()
            found.update({i: self._unwrap_subject(i, w) for i, w in rows})
        return found

    def _by_lookup(self, lookups: Sequence[bytes]) -> dict[bytes, tuple[bytes, bytes]]:
        found: dict[bytes, tuple[bytes, bytes]] = {}
        for chunk in _chunks(list(lookups)):
            marks = ",".join("?" * len(chunk))
            with self._lock:
                rows = self._db.execute(
                    f"SELECT lookup, id, wrapped FROM subject_keys WHERE lookup IN ({marks})",
                    chunk).fetchall()
            found.update({h: (i, self._unwrap_subject(i, w)) for h, i, w in rows})
        return found

    def _subjects_aead(self) -> AESGCM:
        if self._subject_wrap is None:
            self._subject_wrap = AESGCM(self.data_key(SUBJECTS))
        return self._subject_wrap

    def _wrap_subject(self, subject_id: bytes, key: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._subjects_aead().encrypt(nonce, key, subject_id)

    def _unwrap_subject(self, subject_id: bytes, wrapped: bytes) -> bytes:
        return self._subjects_aead().decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:],
                                             subject_id)

    def shred(self, value: str) -> str | None:
        """Destroy the key of the subject whose value is `value`, with its earlier
        generations: every ciphertext made under them, in every table and every version,
        becomes unreadable. Its current id (hex), or None when the keyring holds no key for
        that value."""
        lookup = self.lookup(value)
        with self._lock, self._db:
            row = self._db.execute("SELECT id FROM subject_keys WHERE lookup = ?",
                                   (lookup,)).fetchone()
            if row is None:
                return None
            self._db.execute("DELETE FROM subject_keys WHERE lookup = ?", (lookup,))
            self._db.execute("DELETE FROM retired_subject_keys WHERE lookup = ?", (lookup,))
        self._db.execute("VACUUM")  # no free page keeps the wrapped key
        return bytes(row[0]).hex()

    def rotate_subject_keys(self) -> int:
        """A new generation of every subject's key: a new random key under a new id (what
        `--reencrypt`'s rewrite seals with); the current one retired, kept so the versions
        written under it still read. One transaction; the number of subjects."""
        with self._lock, self._db:
            rows = self._db.execute("SELECT lookup, id, wrapped FROM subject_keys").fetchall()
            self._db.executemany("INSERT INTO retired_subject_keys VALUES (?, ?, ?)",
                                 [(i, h, w) for h, i, w in rows])
            ids = [os.urandom(SUBJECT_ID_BYTES) for _ in rows]
            self._db.executemany(
                "UPDATE subject_keys SET id = ?, wrapped = ? WHERE lookup = ?",
                [(i, self._wrap_subject(i, os.urandom(KEY_BYTES)), h)
                 for i, (h, _, _) in zip(ids, rows, strict=True)])
        return len(rows)

    def retired_subject_ids(self) -> set[bytes]:
        with self._lock:
            rows = self._db.execute("SELECT id FROM retired_subject_keys").fetchall()
        return {bytes(r[0]) for r in rows}

    def drop_retired(self, ids: Iterable[bytes]) -> int:
        """Destroy these retired subject keys (no file is sealed under them any more)."""
        dropped = 0
        with self._lock, self._db:
            for chunk in _chunks(list(ids)):
                marks = ",".join("?" * len(chunk))
                dropped += self._db.execute(
                    f"DELETE FROM retired_subject_keys WHERE id IN ({marks})", chunk).rowcount
        if dropped:
            self._db.execute("VACUUM")
        return dropped

    # -- columns -----------------------------------------------------------------------
    def record_columns(self, table: str, columns: Sequence[str]) -> None:
        with self._lock, self._db:
            self._db.executemany("INSERT OR IGNORE INTO encrypted_columns VALUES (?, ?)",
                                 [(table, c) for c in columns])

    def encrypted_columns(self, table: str) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT col FROM encrypted_columns WHERE tbl = ?",
                                    (table,)).fetchall()
        return {r[0] for r in rows}

    # -- administration ----------------------------------------------------------------
    def rotate(self, new: KeyEncryptionKey, source: str, salt: bytes | None) -> int:
        """Re-wrap every data key under `new`, in one transaction (an interruption, even a
        kill, leaves the old wrapping); the number of keys re-wrapped."""
        with self._lock, self._db:
            rows = self._db.execute("SELECT scope, wrapped FROM data_keys").fetchall()
            for scope, wrapped in rows:
                key = self._unwrap(wrapped, scope)
                self._db.execute("UPDATE data_keys SET wrapped = ?, kek_id = ? WHERE scope = ?",
                                 (new.wrap(key, scope.encode()), new.key_id, scope))
            self._db.execute("DELETE FROM meta")
            _set_meta(self._db, new, source, salt, SCRYPT_N)
        self.kek = new
        return len(rows)

    def status(self) -> KeyringStatus:
        with self._lock:
            meta = dict(self._db.execute("SELECT name, value FROM meta").fetchall())
            counts = [self._db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                      for t in ("data_keys", "subject_keys", "retired_subject_keys")]
            rows = self._db.execute("SELECT tbl, col FROM encrypted_columns ORDER BY 1, 2"
                                    ).fetchall()
        columns: dict[str, list[str]] = {}
        for table, column in rows:
            columns.setdefault(table, []).append(column)
        return KeyringStatus(str(self.path), str(meta.get("kek_id", "")),
                             str(meta.get("source", "")), counts[0], counts[1], columns,
                             counts[2])


def normal(value: str) -> str:
    """A subject's value as keys are found by: lower case, trimmed; a document number
    (digits with `.`, `-`, `/`, spaces) as its digits."""
    text = value.strip().lower()
    digits = re.sub(r"[.\-/\s]", "", text)
    return digits if digits.isdigit() else text


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA secure_delete = ON")
    db.isolation_level = "DEFERRED"
    return db


def _set_meta(db: sqlite3.Connection, kek: KeyEncryptionKey, source: str,
              salt: bytes | None, n: int) -> None:
    values: Mapping[str, object] = {"kek_id": kek.key_id, "source": source,
                                    **({"salt": salt, "scrypt_n": n} if salt else {})}
    db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))


def _check(kek: KeyEncryptionKey, meta: Mapping[str, object]) -> None:
    expected = meta.get("kek_id")
    if expected != kek.key_id:
        raise EncryptionKeyError(
            f"the master key from {kek.source} is not the keyring's: the keyring was made "
            f"with key {expected} ({meta.get('source')}), this one is {kek.key_id}",
            hint="check the passphrase or key; nothing was written")


@contextmanager
def opened(path: Path, spec: KeySpec) -> Iterator[KeyRing]:
    ring = KeyRing.open(path, spec)
    try:
        yield ring
    finally:
        ring.close()


def _chunks(items: list[bytes]) -> Iterator[list[bytes]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]
