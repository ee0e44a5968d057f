"""Search every byte a project keeps for given values: Parquet files read column by column
(pages decompressed), every other file as bytes (JSON logs, SQLite pages, HTML, NDJSON)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pyarrow.parquet as pq


def forms(values: list[str]) -> list[bytes]:
    """Each value as text, as JSON escapes it and as HTML escapes it, lower-cased."""
    found: set[str] = set()
    for value in values:
        found |= {value, json.dumps(value)[1:-1], escape(value)}
    return sorted({f.lower().encode("utf-8") for f in found})


def occurrences(root: Path, values: list[str], skip: tuple[str, ...] = ()) -> list[str]:
    """`path: value` for each file under `root` (but the `skip` folders) holding a value."""
    wanted = forms(values)
    hits = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if any(part in skip for part in path.relative_to(root).parts):
            continue
        blobs = [path.read_bytes().lower()]
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            blobs.append(str(table.to_pylist()).lower().encode("utf-8"))
            blobs.append(json.dumps(table.to_pylist(), default=str).lower().encode("utf-8"))
        hits += [f"{path.relative_to(root)}: {w.decode()}" for w in wanted
                 if any(w in blob for blob in blobs)]
    return hits
