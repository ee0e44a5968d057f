"""`afluente keys init|rotate|status`: the keyring of encrypted columns, every operation
appended to the audit log (action `key`)."""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Any

from afluente.config import Project
from afluente.config.governance import EncryptionSpec
from afluente.errors import EncryptionKeyError
from afluente.governance.audit import append_audit
from afluente.governance.column_cipher import keyring_path
from afluente.governance.kek import SCRYPT_N, open_kek
from afluente.governance.keyring import KeyRing, opened

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


def rotate_keys(project: Project, new_env: str | None = None) -> dict[str, Any]:
    """Re-wrap every data key under a new master key: the passphrase or key in `new_env`
    (default `AFLUENTE_NEW_KEY_PASSPHRASE` / `AFLUENTE_NEW_MASTER_KEY`); for a KMS, the
    plug-in's current key. One transaction: interrupted, the old master key still opens
    everything."""
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
    return {"from": old, "to": new.key_id, "data_keys": count,
            "next": f"from now on the key is the one in ${variable}" if variable else ""}
