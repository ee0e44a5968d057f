"""`afluente keys init|rotate|prune|status`: the keyring of encrypted columns, every
operation appended to the audit log (action `key`)."""

from __future__ import annotations

import os
import uuid
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from afluente.config import Project
from afluente.config.governance import EncryptionSpec
from afluente.errors import EncryptionKeyError, Location
from afluente.governance.audit import append_audit
from afluente.governance.column_cipher import keyring_path
from afluente.governance.kek import SCRYPT_N, open_kek
from afluente.governance.keyring import KeyRing, opened
from afluente.model import TableRef

if TYPE_CHECKING:
    from afluente.governance.column_cipher import ColumnCipher
    from afluente.storage import Warehouse

#: where `rotate` reads the new passphrase or master key from, by source
NEW_KEY_ENV = {"passphrase": "AFLUENTE_NEW_KEY_PASSPHRASE", "env": "AFLUENTE_NEW_MASTER_KEY"}


def encryption_of(project: Project) -> EncryptionSpec:
    governance = project.config.governance
    spec = governance.encryption if governance is not None else None
    if spec is None:
        raise EncryptionKeyError("afluente.yml declares no `governance.encryption` block",
                                 hint="declare it (docs/governance.md#encryption-at-rest)")
    return spec


def init_keys(project: Project) -> dict[str, Any]:
    """Create the keyring under the declared master key."""
    spec = encryption_of(project)
    ring = KeyRing.create(keyring_path(project, spec), spec.key)
    try:
        status = asdict(ring.status())
    finally:
        ring.close()
    append_audit(project, "key", "keyring", {"operation": "init", "kek_id": status["kek_id"],
                                             "source": spec.key.source})
    return status


def key_status(project: Project) -> dict[str, Any]:
    spec = encryption_of(project)
    with opened(keyring_path(project, spec), spec.key) as ring:
        return asdict(ring.status())


def rotate_keys(project: Project, new_env: str | None = None,
                reencrypt: bool = False) -> dict[str, Any]:
    """Re-wrap every data key under a new master key: the passphrase or key in `new_env`
    (default `AFLUENTE_NEW_KEY_PASSPHRASE` / `AFLUENTE_NEW_MASTER_KEY`); for a KMS, the
    plug-in's current key. One transaction: interrupted, the old master key still opens
    everything. `reencrypt`: then give each table and each subject a new key and rewrite
    the tables."""
    spec = encryption_of(project)
    source = spec.key.source
    variable = new_env or NEW_KEY_ENV.get(source)
    if variable is not None and not os.environ.get(variable):
        raise EncryptionKeyError(f"rotation reads the new {source} key from ${variable}, "
                                 "which is not set; nothing was changed",
                                 hint=f"export {variable}=... and run it again")
    salt = os.urandom(16) if source == "passphrase" else None
    new = open_kek(spec.key, salt, SCRYPT_N, {source: variable} if variable else None)
    with opened(keyring_path(project, spec), spec.key) as ring:
        old = ring.kek.key_id
        count = ring.rotate(new, source, salt)
        append_audit(project, "key", "keyring", {"operation": "rotate", "from": old,
                                                 "to": new.key_id, "data_keys": count})
        rewritten, subjects = reencrypt_tables(project, ring) if reencrypt else ([], 0)
    return {"from": old, "to": new.key_id, "data_keys": count, "reencrypted": rewritten,
            "subject_keys_rotated": subjects,
            "next": f"from now on the key is the one in ${variable}" if variable else ""}


def reencrypt_tables(project: Project, ring: KeyRing) -> tuple[list[str], int]:
    """Each table with encrypted columns sealed again under a new generation of its data
    key, and every subject's values under a new generation of their key, in one Delta
    commit per table (its earlier versions keep the older keys, which stay in the keyring
    so time travel still reads them). The new keys are stored before the rewrite: a
    rewrite interrupted leaves the table as it was, readable."""
    from afluente.governance.column_cipher import ColumnCipher
    from afluente.storage import Warehouse

    spec = encryption_of(project)
    subjects = ring.rotate_subject_keys()  # stored before any rewrite, as the table keys
    if subjects:
        append_audit(project, "key", "subject_keys", {"operation": "rotate_subject_keys",
                                                      "subject_keys": subjects})
    cipher = ColumnCipher(spec, ring)  # seals the columns the keyring records
    warehouse = Warehouse(project.warehouse_uri)
    warehouse.encryptor = cipher
    done = []
    for table in ring.status().encrypted_columns:
        ref = TableRef.parse(table)
        if not warehouse.exists(ref):
            continue
        generation = ring.generation(table) + 1
        ring.data_key(ring.table_scope(table, generation))  # made and stored first
        version = _rewrite(project, warehouse, cipher, ref)
        append_audit(project, "key", table, {"operation": "reencrypt",
                                             "generation": generation, "version": version})
        done.append(table)
    return done, subjects


def _rewrite(project: Project, warehouse: Warehouse, cipher: ColumnCipher,
             ref: TableRef) -> int:
    """`ref`'s rows read through `cipher` and written back through it, keeping the last
    commit's fingerprint, inputs and source progress (so runs see nothing new)."""
    from afluente.engines import project_engine

    last = warehouse.last_commit(ref)
    engine = project_engine(project)
    engine.use_decryptor(cipher)
    try:
        engine.attach_table(ref, warehouse.dataset(ref))
        stream = engine.run_sql(f'SELECT * FROM "{ref.layer}"."{ref.name}"',
                                Location("afluente keys rotate --reencrypt"), str(ref))
        run_id = f"reencrypt-{uuid.uuid4().hex[:12]}"
        fingerprint = (last.fingerprint if last else None) or ""
        inputs = dict(last.inputs) if last else {}
        if last is not None and last.progress is not None:
            written = warehouse.append(ref, stream.reader, run_id=run_id,
                                       fingerprint=fingerprint, inputs=inputs,
                                       progress=dict(last.progress), overwrite=True)
        else:
            written = warehouse.write(ref, stream.reader, run_id=run_id,
                                      fingerprint=fingerprint, inputs=inputs)
    finally:
        engine.close()
    return written.version


def prune_retired_keys(project: Project) -> dict[str, Any]:
    """Destroy the retired generations of subject keys (`rotate --reencrypt`) that no data
    file still on disk is sealed under: once the tables' older versions are vacuumed, the
    keys that opened them go too. A file of any version still present keeps its keys."""
    from afluente.storage import Warehouse

    spec = encryption_of(project)
    warehouse = Warehouse(project.warehouse_uri)
    if not warehouse.is_local:
        raise EncryptionKeyError(
            f"`keys prune` reads the data files of every table, and the warehouse "
            f"{project.warehouse_uri} is not a local folder; nothing was changed",
            hint="run it where the warehouse is a local path")
    with opened(keyring_path(project, spec), spec.key) as ring:
        retired = ring.retired_subject_ids()
        used = _sealed_under(warehouse, ring.status().encrypted_columns) if retired else set()
        dropped = ring.drop_retired(retired - used)
    detail = {"operation": "prune", "retired_dropped": dropped,
              "retired_kept": len(retired) - dropped}
    append_audit(project, "key", "subject_keys", dict(detail))
    return detail


def _sealed_under(warehouse: Warehouse, encrypted: dict[str, list[str]]) -> set[bytes]:
    """The subject ids the encrypted values of every data file on disk carry."""
    import pyarrow.parquet as pq

    from afluente.governance.column_cipher import SUBJECT_SEALED
    from afluente.governance.keyring import SUBJECT_ID_BYTES

    found: set[bytes] = set()
    for table, columns in encrypted.items():
        folder = warehouse.local_dir(TableRef.parse(table))
        for path in folder.rglob("*.parquet") if folder.is_dir() else ():
            if "_delta_log" in path.relative_to(folder).parts:
                continue
            present = [c for c in columns if c in pq.read_schema(path).names]
            for column in pq.read_table(path, columns=present).columns:
                found.update(b[1:1 + SUBJECT_ID_BYTES] for b in column.to_pylist()
                             if b and b[0] == SUBJECT_SEALED)
    return found
