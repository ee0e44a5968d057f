"""Per model run metrics, read from what the run already left behind: the Delta log (rows,
files and bytes added by the commit, row counts from file statistics) and the run result.
The only scan is the column profile (see :mod:`afluente.observability.profile`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import unquote

import pyarrow as pa

from afluente.engines import DuckDBSettings, Engine, create_engine
from afluente.errors import EngineError
from afluente.model import Graph, TableRef
from afluente.observability.profile import first_rows, profile_files, profile_table
from afluente.state.observability import MetricsRow
from afluente.storage import Warehouse
from afluente.storage.file_stats import plain_files

log = logging.getLogger("afluente.observability")

#: Tables measured at once: reading Delta logs and profiling release the GIL.
METRICS_THREADS = 4
#: Kinds whose new version only adds rows: their profile is of the rows added, not the table.
ADDED_ROWS = frozenset({"ingest", "append"})
#: Kinds that upsert by key: their MERGE adds files holding the rows it inserted or changed
#: (and the rows sharing a file with those); the profile is of those files, not the table,
#: so an incremental run's profile costs what it wrote.
UPSERTED_ROWS = frozenset({"merge", "apply_changes", "snapshot"})


class Outcome(Protocol):
    """What the runtime reports of one model (``afluente.runtime.results.ModelResult``)."""

    @property
    def ref(self) -> TableRef: ...
    @property
    def status(self) -> str: ...
    @property
    def duration_s(self) -> float: ...
    @property
    def rows(self) -> int | None: ...
    @property
    def version(self) -> int | None: ...
    @property
    def versions_read(self) -> dict[str, int]: ...


def collect_metrics(
    warehouse: Warehouse,
    graph: Graph,
    run_id: str,
    finished_at: datetime,
    outcomes: Iterable[Outcome],
    profile: bool = True,
    new_engine: Callable[[], Engine] | None = None,
) -> list[MetricsRow]:
    """Metrics of every model that wrote a new version in this run (tables in parallel,
    each thread with one engine, made by `new_engine` (DuckDB by default), for all its
    profiles)."""
    written = [o for o in outcomes if o.status == "success" and o.version is not None]
    make = new_engine or (lambda: create_engine(DuckDBSettings()))
    local = threading.local()
    engines: list[Engine] = []

    def measure(outcome: Outcome) -> MetricsRow:
        if profile and not hasattr(local, "engine"):
            local.engine = make()
            engines.append(local.engine)
        engine = local.engine if profile else None
        return _metrics(warehouse, graph, run_id, finished_at, outcome, engine)

    try:
        if len(written) < 2:
            return [measure(o) for o in written]
        with ThreadPoolExecutor(METRICS_THREADS, thread_name_prefix="afluente-metrics") as pool:
            return list(pool.map(measure, written))
    finally:
        for engine in engines:
            engine.close()


def _metrics(
    warehouse: Warehouse,
    graph: Graph,
    run_id: str,
    finished_at: datetime,
    outcome: Outcome,
    engine: Engine | None,
) -> MetricsRow:
    """One model's metrics; its column profile when an `engine` is given."""
    ref, version = outcome.ref, outcome.version
    assert version is not None
    table = warehouse.open(ref, version=version)
    files, count = _files(table)
    if version > 0:
        files_before, before = _files(warehouse.open(ref, version=version - 1))
    else:
        files_before, before = {}, 0
    if count is None or before is None:  # a file without statistics: count from footers
        count = _row_count(warehouse, ref, version)
        before = _row_count(warehouse, ref, version - 1) if version > 0 else 0
    added = set(files) - set(files_before)
    kind = graph[ref].kind
    is_source = kind == "ingest"
    read = outcome.rows if is_source else _rows_read(warehouse, outcome.versions_read)
    schema = pa.schema(table.schema().to_arrow())
    return MetricsRow(
        run_id=run_id,
        model=str(ref),
        finished_at=finished_at,
        duration_s=round(outcome.duration_s, 3),
        rows_read=read,
        rows_written=outcome.rows,
        rows_added=count - before,
        row_count=count,
        bytes_written=sum(files[p] for p in added),
        files_written=len(added),
        versions_read=dict(outcome.versions_read),
        version_written=version,
        columns={f.name: str(f.type) for f in schema},
        profile=_profile(warehouse, ref, table, list(files), schema, added,
                         kind in ADDED_ROWS or (kind in UPSERTED_ROWS and version > 0),
                         run_id if is_source else None, engine)
        if engine is not None
        else {},
    )


def _profile(
    warehouse: Warehouse, ref: TableRef, table: Any, files: list[str], schema: pa.Schema,
    added: set[str], appended: bool, run_id: str | None, engine: Engine,
) -> dict[str, dict[str, float | None]]:
    """Profile what the run wrote: for an ingested table, an `append` model or a later
    version of an upserting kind, the rows in the files this version added (no scan of the
    files it left as they were); otherwise the whole version. A local table whose files hold
    every column under its own name (no partition columns, no column mapping) is read by the
    engine directly."""
    version = table.version()
    paths = sorted(added) if appended and added else files
    if warehouse.is_local and paths and plain_files(table):
        root = warehouse.local_dir(ref)
        local = [str(root / unquote(p)) for p in paths]
        try:
            return profile_files(local, schema, engine, None if appended and added else run_id)
        except EngineError as exc:  # e.g. a column no file has yet: Arrow reads it as null
            log.debug("profiling %s through Arrow: %s", ref, exc.message)
    if appended and added and warehouse.is_local:
        paths = [f"{warehouse.uri(ref)}/{p}" for p in sorted(added)]
        return profile_table(first_rows(paths, schema), engine)
    return profile_table(warehouse.dataset(ref, version), engine, run_id)


def _files(table: Any) -> tuple[dict[str, int], int | None]:
    """The data files of a Delta table version (path -> bytes) and its rows, summed from
    the files' statistics (None when a file has none)."""
    actions = pa.table(table.get_add_actions(flatten=True))
    files = dict(zip(actions["path"].to_pylist(), actions["size_bytes"].to_pylist(),
                     strict=True))
    if "num_records" not in actions.column_names:
        return files, None
    records = actions["num_records"].to_pylist()
    return files, None if any(r is None for r in records) else sum(records)


def _row_count(warehouse: Warehouse, ref: TableRef, version: int) -> int:
    """Rows of a version from the Parquet footers (no data read)."""
    return int(warehouse.dataset(ref, version).count_rows())


def _rows_read(warehouse: Warehouse, versions: dict[str, int]) -> int | None:
    """Rows of the input versions the model read (None when it read no stored table)."""
    if not versions:
        return None
    return sum(_rows_at(warehouse, TableRef.parse(t), v) for t, v in versions.items())


def _rows_at(warehouse: Warehouse, ref: TableRef, version: int) -> int:
    _, count = _files(warehouse.open(ref, version=version))
    return count if count is not None else _row_count(warehouse, ref, version)
