"""Maintenance of one Delta table: compaction of small files (OPTIMIZE), Z-order by declared
columns, vacuum of data files removed longer ago than the time-travel retention, and a
checkpoint with the log files before it cleaned.

No row changes: compaction and Z-order commit with `dataChange: false`, a vacuum deletes
only files no version within the retention reads. Each commit carries the table's last
build metadata (model, fingerprint, inputs, progress), as a retention delete does, so the
model's next run sees it up to date. The table's `delta.deletedFileRetentionDuration` is
set to the declared time travel (and `delta.logRetentionDuration` raised to it when
shorter), so any engine's vacuum and Delta's log cleanup keep those versions readable.
"""

from __future__ import annotations

import math
import re
import statistics
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties, DeltaTable
from deltalake.exceptions import DeltaError

from afluente.errors import StorageError
from afluente.storage.arrow_dataset import delta_dataset, local_root
from afluente.storage.commits import DATA_VERSION, FINGERPRINT
from afluente.storage.damage import LOG
from afluente.storage.file_stats import key_ranges
from afluente.storage.retention import CARRIED, OPERATION

#: the value of `afluente.operation` on the commits maintenance makes
MAINTENANCE = "maintenance"
DELETED_FILES = "delta.deletedFileRetentionDuration"
LOG_RETENTION = "delta.logRetentionDuration"
#: Delta's default log retention (30 days)
DEFAULT_LOG_RETENTION = timedelta(days=30)
_INTERVAL = re.compile(r"^\s*interval\s+(\d+)\s+([a-z]+?)s?\s*$")
_UNIT = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


@dataclass(frozen=True)
class MaintenanceWork:
    """What to do to a table (`vacuum_after` None: no vacuum)."""

    compact: bool = True
    z_order: tuple[str, ...] = ()
    target_size: int | None = None
    time_travel: timedelta = timedelta(days=7)
    vacuum_after: timedelta | None = timedelta(days=7)
    checkpoint: bool = True


@dataclass(frozen=True)
class Footprint:
    """A version's data files: how many, their bytes, and a filtered query on it."""

    version: int
    files: int
    bytes: int
    files_matching: int | None = None  # files whose statistics admit the probe value
    query_s: float | None = None  # median time of the probe query (count of matching rows)
    rows_matching: int | None = None


@dataclass(frozen=True)
class Probe:
    """The filter the before/after figures are measured with: `column = value`."""

    column: str
    value: Any


@dataclass(frozen=True)
class TableMaintained:
    """What maintenance did to one table."""

    before: Footprint
    after: Footprint
    files_removed: int = 0  # by compaction / Z-order
    files_added: int = 0
    z_ordered: bool = False
    files_vacuumed: int = 0
    vacuum_retention: timedelta | None = None
    checkpoint: int | None = None  # the version checkpointed
    log_files_removed: int = 0


def maintain_table(uri: str, work: MaintenanceWork, label: str, *,
                   vacuum_floor: timedelta = timedelta(0), probe: Probe | None = None,
                   storage_options: dict[str, str] | None = None) -> TableMaintained:
    """Compact or Z-order, vacuum, checkpoint `uri`; `vacuum_floor`: keep files at least
    this long too (the age of the oldest run still reading). Figures before and after."""
    try:
        table = DeltaTable(uri, storage_options=storage_options)
        missing = [c for c in work.z_order if c not in table.schema().to_arrow().names]
        if missing:
            raise StorageError(f"`{label}` has no column `{missing[0]}` to Z-order by (it has "
                               f"{', '.join(table.schema().to_arrow().names)})", table=label,
                               hint="fix `maintenance: z_order:` of the model")
        before = footprint(table, probe, storage_options)
        commit = CommitProperties(custom_metadata=carried_metadata(table))
        _keep_time_travel(table, work.time_travel, commit)
        removed, added = _rewrite(table, work, commit)
        vacuumed, kept = _vacuum(table, work, vacuum_floor, commit)
        # a checkpoint drops the tombstones older than the table's retention: files a live
        # reader kept past it would never be vacuumed; checkpoint at the next maintenance
        deferred = work.vacuum_after is not None and vacuum_floor > max(work.vacuum_after,
                                                                        work.time_travel)
        checkpoint, cleaned = (None, 0) if deferred else _checkpoint(uri, table, work)
        table.update_incremental()
        after = footprint(table, probe, storage_options)
    except DeltaError as exc:
        raise StorageError(f"maintaining `{label}` failed: {exc}", table=label,
                           hint="nothing was lost: each step is its own commit; run "
                           "`afluente maintain` again") from exc
    return TableMaintained(before, after, removed, added, bool(work.z_order), vacuumed, kept,
                           checkpoint, cleaned)


def carried_metadata(table: DeltaTable) -> dict[str, str]:
    """The afluente metadata of the table's last build commit, plus the operation mark."""
    built = next((e for e in table.history(32) if FINGERPRINT in e), None)
    built = built or (table.history(1) or [{}])[0]
    carried = {k: v for k, v in built.items() if k in CARRIED and isinstance(v, str)}
    head = (table.history(1) or [{}])[0]
    held = head.get(DATA_VERSION) if head.get(OPERATION) == MAINTENANCE else None
    return {**carried, OPERATION: MAINTENANCE, DATA_VERSION: str(held or table.version())}


def _rewrite(table: DeltaTable, work: MaintenanceWork, commit: CommitProperties
             ) -> tuple[int, int]:
    """Z-order (which compacts too) or compact; the files removed and added."""
    if work.z_order:
        metrics = table.optimize.z_order(list(work.z_order), target_size=work.target_size,
                                         commit_properties=commit)
    elif work.compact:
        metrics = table.optimize.compact(target_size=work.target_size,
                                         commit_properties=commit)
    else:
        return 0, 0
    return int(metrics.get("numFilesRemoved") or 0), int(metrics.get("numFilesAdded") or 0)


def _vacuum(table: DeltaTable, work: MaintenanceWork, floor: timedelta,
            commit: CommitProperties) -> tuple[int, timedelta | None]:
    if work.vacuum_after is None:
        return 0, None
    keep = max(work.vacuum_after, work.time_travel, floor)
    hours = math.ceil(keep.total_seconds() / 3600)  # whole hours, rounded up
    deleted = table.vacuum(retention_hours=hours, dry_run=False,
                           enforce_retention_duration=False, commit_properties=commit)
    return len(deleted), timedelta(hours=hours)


def _checkpoint(uri: str, table: DeltaTable, work: MaintenanceWork) -> tuple[int | None, int]:
    """A checkpoint at the current version, then Delta's log cleanup (commit files older
    than `delta.logRetentionDuration` and before a checkpoint); the log files it removed."""
    if not work.checkpoint:
        return None, 0
    table.update_incremental()
    table.create_checkpoint()
    before = _log_files(uri)
    table.cleanup_metadata()
    after = _log_files(uri)
    removed = before - after if before is not None and after is not None else 0
    return table.version(), max(0, removed)


def _log_files(uri: str) -> int | None:
    """The files in a local table's log (None for an object store: not counted)."""
    root = local_root(uri)
    return None if root is None else sum(1 for _ in (Path(root) / LOG).iterdir())


def _keep_time_travel(table: DeltaTable, keep: timedelta, commit: CommitProperties) -> None:
    """Set the table's deleted-file retention to `keep`, its log retention to at least it
    (one commit, only when they differ)."""
    configuration = table.metadata().configuration
    wanted: dict[str, str] = {}
    if _interval(configuration.get(DELETED_FILES)) != keep:
        wanted[DELETED_FILES] = _as_interval(keep)
    log_kept = _interval(configuration.get(LOG_RETENTION)) or DEFAULT_LOG_RETENTION
    if log_kept < keep:
        wanted[LOG_RETENTION] = _as_interval(keep)
    if wanted:
        table.alter.set_table_properties(wanted, commit_properties=commit)


def _interval(text: str | None) -> timedelta | None:
    match = _INTERVAL.match((text or "").lower())
    if match is None or match.group(2) not in _UNIT:
        return None
    return timedelta(seconds=int(match.group(1)) * _UNIT[match.group(2)])


def _as_interval(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit in ("week", "day", "hour", "minute"):
        if seconds % _UNIT[unit] == 0:
            return f"interval {seconds // _UNIT[unit]} {unit}s"
    return f"interval {seconds} seconds"


def footprint(table: DeltaTable, probe: Probe | None = None,
              storage_options: dict[str, str] | None = None, repeat: int = 3) -> Footprint:
    """Files and bytes of the loaded version, and the probe query's figures."""
    actions = pa.table(table.get_add_actions(flatten=True))
    size = int(pc.sum(actions["size_bytes"]).as_py() or 0) if actions.num_rows else 0
    found = Footprint(table.version(), actions.num_rows, size)
    if probe is None or not actions.num_rows:
        return found
    ranges = key_ranges(table, probe.column) or {}
    matching = sum(1 for low, high in ranges.values()
                   if low is not None and high is not None and low <= probe.value <= high)
    dataset = delta_dataset(table, storage_options)
    condition = pc.field(probe.column) == pa.scalar(probe.value)
    times, rows = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = dataset.count_rows(filter=condition)
        times.append(time.perf_counter() - start)
    return Footprint(found.version, found.files, found.bytes,
                     matching if ranges else None, statistics.median(times), rows)


def probe_value(uri: str, column: str, storage_options: dict[str, str] | None = None
                ) -> Any:
    """A value of `column` to filter on: the median of the files' minimums and maximums
    (or of the column's first values when the log has no statistics); None for an empty
    table."""
    table = DeltaTable(uri, storage_options=storage_options)
    ranges = key_ranges(table, column)
    bounds = sorted(b for pair in (ranges or {}).values() for b in pair if b is not None)
    if bounds:
        return bounds[len(bounds) // 2]
    head = delta_dataset(table, storage_options).head(1000, columns=[column])
    values = sorted(v for v in head.column(0).to_pylist() if v is not None)
    return values[len(values) // 2] if values else None


__all__ = ["MAINTENANCE", "Footprint", "MaintenanceWork", "Probe", "TableMaintained",
           "carried_metadata", "footprint", "maintain_table", "probe_value"]
