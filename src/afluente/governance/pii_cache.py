"""The personal columns of each table, kept between commands.

A governed reader that is not an ADMIN needs every table's personal columns (tags carried
along column lineage): parsing the models with sqlglot costs ~0.7 s a command on the demo
(bench/RESULTS.md §23). The answer depends only on the models (their code and settings: the
graph's fingerprints), the tags they declare, the stored tables' schemas and the sqlglot
version, so it is kept in `.afluente/cache/pii-columns.json` under a key made of those: a
changed model, tag, source or written table (a new commit in its log) makes a new key, and
the columns are computed afresh. A remote warehouse has no cheap listing of its logs: there
the columns are always computed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from afluente.config import Project
from afluente.model import Graph, TableRef
from afluente.storage import Warehouse

FORMAT = 1
FILE = "pii-columns.json"

PiiColumns = dict[TableRef, dict[str, set[str]]]


def cached_pii_columns(project: Project, graph: Graph, warehouse: Warehouse,
                       compute: Callable[[], PiiColumns]) -> PiiColumns:
    """`compute()`'s answer, from the cache when nothing it depends on changed."""
    marks = warehouse.commit_marks(graph.order)
    if marks is None:
        return compute()
    key = _key(graph, marks)
    path = project.cache_dir / FILE
    stored = _load(path, key)
    if stored is not None:
        return stored
    found = compute()
    _save(path, key, found)
    return found


def _key(graph: Graph, marks: dict[str, int | None]) -> str:
    nodes = [[str(ref), graph.fingerprints.get(ref, ""), graph[ref].language,
              sorted(str(up) for up in graph[ref].upstream),
              sorted([c, sorted(doc.tags)] for c, doc in graph[ref].config.columns.items()),
              marks.get(str(ref))]
             for ref in graph.order]
    text = json.dumps([FORMAT, metadata.version("sqlglot"), nodes], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _load(path: Path, key: str) -> PiiColumns | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # none yet, or damaged: computed again
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    return {TableRef.parse(table): {column: set(origins) for column, origins in cols.items()}
            for table, cols in data["tables"].items()}


def _save(path: Path, key: str, found: PiiColumns) -> None:
    tables = {str(ref): {column: sorted(origins) for column, origins in cols.items()}
              for ref, cols in found.items()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".pii-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"key": key, "tables": tables}, out, sort_keys=True)
        os.replace(temporary, path)
    except OSError:
        return  # a read-only project: computed each time, as before
