"""Check that a table's folder can be written before writing to it.

Writing into a read-only folder (a read-only mount, a folder of another user) makes the
Delta writer fail half-way with a message cut to its first cause and a Rust panic of its
background runtime on stderr; a file sitting where a folder should be fails the same way.
A probe file created and removed in the table's folder (or in its nearest existing
ancestor, for a new table) finds this first, even for root, whom permission bits do not
stop but a read-only mount does.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from afluente.errors import StorageError

PROBE_PREFIX = ".afluente-write-probe-"


def ensure_writable(uri: str, table: str) -> None:
    """Raise StorageError naming the path when the local table folder cannot be written;
    object storage is not probed (its writer reports its own errors)."""
    if "://" in uri and not uri.startswith("file://"):
        return
    folder = _nearest_existing(Path(uri.removeprefix("file://")))
    if not folder.is_dir():
        raise _unwritable(table, folder, "it is a file, not a folder")
    try:
        handle, probe = tempfile.mkstemp(prefix=PROBE_PREFIX, dir=folder)
    except OSError as exc:
        raise _unwritable(table, folder, exc.strerror or str(exc)) from None
    os.close(handle)
    os.unlink(probe)


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _unwritable(table: str, folder: Path, why: str) -> StorageError:
    return StorageError(
        f"cannot write table `{table}`: {folder} is not writable ({why})",
        table=table,
        hint=f"make {folder} a folder writable by the user running afluente (or remount it "
        "read-write), then run again; the table keeps its previous version",
    )
