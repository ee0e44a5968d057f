"""One file a source matched: where readers open it, how bronze names it, its signature."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileEntry:
    """One matched file: where to read it, how bronze names it, and its signature."""

    path: str  # what readers open (absolute path or s3:// URI)
    name: str  # `_source`: relative to the project folder when inside it, else path or URI
    size: int
    signature: str  # size and modification time; changes when the file is rewritten
