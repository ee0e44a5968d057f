"""Encrypted columns in a run or a read: the project's column cipher (its keyring opened and
its master key checked before anything is written), handed to the warehouse (which seals on
write) and to the engines (which open on read). See docs/governance.md."""

from __future__ import annotations

from typing import TYPE_CHECKING

from afluente.config import Project

if TYPE_CHECKING:
    from afluente.engines import Engine
    from afluente.governance.column_cipher import ColumnCipher
    from afluente.storage import Warehouse


def declared(project: Project) -> bool:
    """Whether the project declares `governance.encryption` (read from the config alone: a
    project without it never loads the cipher, pyarrow or cryptography for a read)."""
    governance = project.config.governance
    return governance is not None and governance.encryption is not None


def run_cipher(project: Project, warehouse: Warehouse) -> ColumnCipher | None:
    """The cipher of a run: it seals what `warehouse` writes (the columns holding personal
    data, by the same lineage that keeps them out of the statistics); None: not declared."""
    if not declared(project):
        return None
    from afluente.governance.column_cipher import open_cipher

    cipher = open_cipher(project, warehouse.private_columns)
    warehouse.encryptor = cipher
    return cipher


def decrypting(engine: Engine, project: Project) -> Engine:
    """`engine`, opening the encrypted columns of the tables attached to it."""
    if not declared(project):
        return engine
    from afluente.governance.column_cipher import decrypting as opened

    return opened(engine, project)
