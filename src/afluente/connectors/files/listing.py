"""Find the files a source's glob matches, each with a signature that changes with its content."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileEntry:
    """One matched file: where to read it, how bronze names it, and its signature."""

    path: str  # what readers open (absolute path or URI)
    name: str  # `_source`: relative to the project folder when inside it
    size: int
    signature: str  # size and modification time; changes when the file is rewritten


def list_files(pattern: str, root: Path) -> list[FileEntry]:
    """The files matching `pattern` (relative to `root` unless absolute), sorted by name."""
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
