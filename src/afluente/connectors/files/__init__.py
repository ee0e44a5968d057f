"""Files (csv, tsv, json/ndjson, parquet, avro, orc, xlsx; local or on S3) into bronze, each
file ingested exactly once.

Progress is the set of files ingested so far with their signatures. Each commit records the
files it ingested (`{"files": {name: signature}}`) in the same Delta commit as their rows;
the set is the union over the commits since the table was last overwritten.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from afluente.connectors.files.config import CsvOptions, FilesSource
    from afluente.connectors.files.connector import FilesConnector, seen_files
    from afluente.connectors.files.listing import FileEntry

__all__ = ["CsvOptions", "FileEntry", "FilesConnector", "FilesSource", "seen_files"]

# loaded on first use: `afluente query` needs only `glob_root` of this package, and the
# readers cost a quarter of a second to import
_HOMES = {
    "CsvOptions": "config",
    "FilesSource": "config",
    "FilesConnector": "connector",
    "seen_files": "connector",
    "FileEntry": "listing",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
