"""Find the files a source's glob matches, each with a signature that changes with its content.

Local paths are globbed; `s3://` paths are listed on object storage.
"""

from __future__ import annotations

import glob
from pathlib import Path

from afluente.connectors.files.config import StorageOptions
from afluente.connectors.files.entry import FileEntry
from afluente.connectors.files.remote_path import is_remote
from afluente.errors import Location

__all__ = ["FileEntry", "list_files"]


def list_files(
    pattern: str,
    root: Path,
    storage: StorageOptions | None = None,
    source: str = "",
    location: Location | None = None,
) -> list[FileEntry]:
    """The files matching `pattern` (relative to `root` unless absolute or remote), sorted."""
    if is_remote(pattern):  # the object-storage client (pyarrow.fs, TLS) only for remote paths
        from afluente.connectors.files.object_storage import list_objects, s3_filesystem

        filesystem = s3_filesystem(storage, source, location)
        return list_objects(pattern, filesystem, source, location)
    return list_local(pattern, root)


def list_local(pattern: str, root: Path) -> list[FileEntry]:
    full = pattern if Path(pattern).is_absolute() else str(root / pattern)
    prefix = str(root).rstrip("/") + "/"
    found: list[FileEntry] = []
    for match in sorted(glob.glob(full, recursive=True)):
        file = Path(match)
        if not file.is_file():
            continue
        stat = file.stat()
        name = match[len(prefix) :] if match.startswith(prefix) else match
        found.append(FileEntry(match, name, stat.st_size, f"{stat.st_size}:{stat.st_mtime_ns}"))
    return found
