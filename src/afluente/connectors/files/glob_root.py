"""The folder a files source's glob can match under: what ad-hoc queries may read."""

from __future__ import annotations

from pathlib import Path

from afluente.connectors.files.remote_path import is_remote

_GLOB_CHARS = frozenset("*?[")


def glob_root(pattern: str, root: Path) -> Path | None:
    """The deepest folder holding every file `pattern` can match (relative patterns are
    resolved against `root`); None for object storage."""
    if is_remote(pattern):
        return None
    full = Path(pattern) if Path(pattern).is_absolute() else root / pattern
    fixed: list[str] = []
    for part in full.parts:
        if _GLOB_CHARS & set(part):
            break
        fixed.append(part)
    folder = Path(*fixed)
    if len(fixed) == len(full.parts):  # no glob at all: a file (or a folder of files)
        folder = folder if folder.is_dir() else folder.parent
    return folder.resolve()
