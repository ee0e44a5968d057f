"""Per model run metrics, read from what the run already left behind: the Delta log (rows,
files and bytes added by the commit, row counts from file statistics) and the run result.
The only scan is the column profile (see :mod:`afluente.observability.profile`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

import pyarrow as pa

from afluente.model import Graph, TableRef
from afluente.observability.profile import first_rows, profile_table
from afluente.state.observability import MetricsRow
from afluente.storage import Warehouse


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
) -> list[MetricsRow]:
    """Metrics of every model that wrote a new version in this run."""
    rows: list[MetricsRow] = []
    for outcome in outcomes:
        if outcome.status != "success" or outcome.version is None:
            continue
        rows.append(_metrics(warehouse, graph, run_id, finished_at, outcome, profile))
    return rows


def _metrics(
    warehouse: Warehouse,
    graph: Graph,
    run_id: str,
    finished_at: datetime,
    outcome: Outcome,
    profile: bool,
) -> MetricsRow:
    ref, version = outcome.ref, outcome.version
    assert version is not None
    files = _files(warehouse, ref, version)
    added = set(files) - set(_files(warehouse, ref, version - 1) if version > 0 else {})
    count = _row_count(warehouse, ref, version)
    before = _row_count(warehouse, ref, version - 1) if version > 0 else 0
    is_source = graph[ref].language == "source"
    read = outcome.rows if is_source else _rows_read(warehouse, outcome.versions_read)
    schema = pa.schema(warehouse.open(ref, version=version).schema().to_arrow())
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
        profile=_profile(warehouse, ref, version, added, run_id if is_source else None)
        if profile
        else {},
    )


def _profile(
    warehouse: Warehouse, ref: TableRef, version: int, added: set[str], run_id: str | None
) -> dict[str, dict[str, float | None]]:
    """Profile what the run wrote: for an ingested (appended) table, the files this version
    added, read directly (no filter over the whole table); otherwise the whole version."""
    if run_id is not None and added and warehouse.is_local:
        paths = [f"{warehouse.uri(ref)}/{p}" for p in sorted(added)]
        schema = pa.schema(warehouse.open(ref, version=version).schema().to_arrow())
        return profile_table(first_rows(paths, schema))
    return profile_table(warehouse.dataset(ref, version), run_id)


def _files(warehouse: Warehouse, ref: TableRef, version: int) -> dict[str, int]:
    """The data files of a version: path -> bytes."""
    actions = pa.table(warehouse.open(ref, version=version).get_add_actions(flatten=True))
    return dict(zip(actions["path"].to_pylist(), actions["size_bytes"].to_pylist(), strict=True))


def _row_count(warehouse: Warehouse, ref: TableRef, version: int) -> int:
    """Rows of a version from the Parquet footers (no data read)."""
    return int(warehouse.dataset(ref, version).count_rows())


def _rows_read(warehouse: Warehouse, versions: dict[str, int]) -> int | None:
    """Rows of the input versions the model read (None when it read no stored table)."""
    if not versions:
        return None
    return sum(_row_count(warehouse, TableRef.parse(t), v) for t, v in versions.items())
