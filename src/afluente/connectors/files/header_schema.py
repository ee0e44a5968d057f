"""The data columns a csv/tsv source's bronze table will have, told before any ingestion.

`afluente validate` binds the models reading a source that was never ingested against these:
the union of the headers of the local files matching `path` (the first line of each, as the
ingestion reads it), typed by the source's `columns:` hints and text otherwise, as bronze
lands them. Reading a first line is cheap; anything more is not, so other formats, object
storage and a landing zone without a readable file tell nothing (None).
"""

from __future__ import annotations

from pathlib import Path

from afluente.connectors.files.config import TEXT_FORMATS, FilesSource
from afluente.connectors.files.delimited import DelimitedScan, UnreadableFile
from afluente.connectors.files.listing import list_local
from afluente.connectors.files.remote_path import is_remote
from afluente.connectors.files.staging import LocalFile
from afluente.errors import Location

TEXT = "VARCHAR"


def header_columns(name: str, config: FilesSource, root: Path,
                   location: Location | None) -> dict[str, str] | None:
    """Column -> DuckDB type of the source's data columns, or None when not cheap to tell."""
    if config.format not in TEXT_FORMATS or is_remote(config.path):
        return None
    delimiter = "\t" if config.format == "tsv" else config.options.delimiter
    scan = DelimitedScan(name, config.options, delimiter, config.options.encoding, location,
                         scratch=lambda: root)  # only headers are read: no copy is made
    found: dict[str, None] = {}
    for entry in list_local(config.path, root):
        try:
            header, _ = scan.header(LocalFile(entry, entry.path))
        except (UnreadableFile, OSError):
            continue  # the ingestion quarantines it; it gives no column
        found.update(dict.fromkeys(header))
    if not found:
        return None
    return {column: config.columns.get(column, TEXT) for column in found}
