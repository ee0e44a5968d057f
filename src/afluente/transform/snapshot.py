"""Snapshot SCD2: build a type-2 dimension by comparing full snapshots of a source.

Each call compares a new full snapshot with the dimension's current rows, by key:
a new key opens a version, a key whose tracked columns changed closes its current version
and opens a new one, a key whose other columns changed is updated in place, and a key
missing from the snapshot is a hard delete (its current version is closed). Versions are
valid from the snapshot's time; a closed version is valid up to the time that closed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import pyarrow as pa

from afluente.engines.protocol import Workspace
from afluente.storage.commits import CommitDescription
from afluente.transform.cdc_state import IS_CURRENT, VALID_FROM, VALID_TO
from afluente.transform.delta_target import ACTION, Target, commit_diff, register_target
from afluente.transform.errors import KindSpecError
from afluente.transform.source import (
    NullKeyPolicy,
    Source,
    default_workspace,
    reject_duplicates,
    require_columns,
    split_null_keys,
)
from afluente.transform.sqltext import col_list, equal_on, ident, row_hash

SNAPSHOT, TARGET, CURRENT, DIFF = "__snap_new", "__snap_target", "__snap_current", "__snap_diff"
SnapshotTime = datetime | date | int


@dataclass(frozen=True)
class SnapshotSpec:
    """The key of the dimension and the columns whose change opens a new version."""

    keys: tuple[str, ...]
    track_columns: tuple[str, ...] | None = None  # default: every non-key column
    on_null_key: NullKeyPolicy = "error"


@dataclass(frozen=True)
class SnapshotResult:
    version: int | None
    inserted: int
    changed: int
    deleted: int
    quarantined: pa.Table | None = None


def snapshot_scd2(
    target: Target,
    snapshot: Source,
    spec: SnapshotSpec,
    snapshot_time: SnapshotTime,
    *,
    commit: CommitDescription | None = None,
    workspace: Workspace | None = None,
) -> SnapshotResult:
    """Record one full snapshot in the SCD2 dimension at `target`, in one Delta commit,
    computing in `workspace` (default: a DuckDB one of its own)."""
    ws = workspace or default_workspace()
    try:
        return _snapshot(ws, target, snapshot, spec, snapshot_time, commit)
    finally:
        if workspace is None:
            ws.close()


def _snapshot(ws: Workspace, target: Target, snapshot: Source, spec: SnapshotSpec,
              snapshot_time: SnapshotTime, commit: CommitDescription | None) -> SnapshotResult:
    columns = ws.load(SNAPSHOT, snapshot)
    _check_spec(spec, columns, target.label)
    quarantined = split_null_keys(ws, SNAPSHOT, spec.keys, spec.on_null_key, target.label)
    reject_duplicates(ws, SNAPSHOT, spec.keys, target.label)
    has_target = register_target(ws, target, TARGET)
    if not has_target:
        ws.create(CURRENT, f"{_versions('s', columns)} LIMIT 0", {"ts": snapshot_time})
    else:
        ws.create(CURRENT, f"FROM {TARGET} WHERE {IS_CURRENT}")
    tracked = spec.track_columns or [c for c in columns if c not in spec.keys]
    counts = _build_diff(ws, spec.keys, columns, tracked, snapshot_time)
    if sum(counts) and has_target:
        _reject_stale(ws, snapshot_time, target.label)
    identity = [*spec.keys, VALID_FROM]
    stored = [*columns, VALID_FROM, VALID_TO, IS_CURRENT]
    version = commit_diff(ws, target, DIFF, identity, stored, commit)
    return SnapshotResult(version, *counts, quarantined=quarantined)


def _check_spec(spec: SnapshotSpec, columns: list[str], table: str) -> None:
    require_columns(columns, spec.keys, "keys", table)
    require_columns(columns, spec.track_columns or (), "track_columns", table)
    reserved = {VALID_FROM, VALID_TO, IS_CURRENT} & set(columns)
    if reserved:
        raise KindSpecError(
            f"the snapshot has column(s) {', '.join(sorted(reserved))}, which the SCD2 "
            "dimension uses for validity",
            table=table,
            hint="rename them in the model's query",
        )


def _versions(alias: str, columns: Sequence[str]) -> str:
    """Snapshot rows as newly opened versions (`$ts` is the snapshot time)."""
    return (
        f"SELECT {col_list(columns, alias)}, $ts AS {ident(VALID_FROM)}, "
        f"CASE WHEN false THEN $ts END AS {ident(VALID_TO)}, true AS {ident(IS_CURRENT)} "
        f"FROM {SNAPSHOT} {alias}"
    )


def _build_diff(
    ws: Workspace,
    keys: Sequence[str],
    columns: Sequence[str],
    tracked: Sequence[str],
    ts: SnapshotTime,
) -> tuple[int, int, int]:
    """Temp table DIFF of rows to upsert; returns (inserted, changed, deleted) key counts."""
    on = equal_on(keys, "s", "c")
    moved = f"{row_hash(tracked, 's')} IS DISTINCT FROM {row_hash(tracked, 'c')}"
    touched = f"{row_hash(columns, 's')} IS DISTINCT FROM {row_hash(columns, 'c')}"
    close = (
        f"SELECT {col_list(columns, 'c')}, c.{ident(VALID_FROM)}, $ts AS {ident(VALID_TO)}, "
        f"false AS {ident(IS_CURRENT)} FROM {CURRENT} c"
    )
    ws.create(
        DIFF,
        f"SELECT *, 'U' AS {ident(ACTION)} FROM ("
        f"{_versions('s', columns)} ANTI JOIN {CURRENT} c ON {on} "  # inserts
        f"UNION ALL {_versions('s', columns)} JOIN {CURRENT} c ON {on} WHERE {moved} "
        f"UNION ALL {close} JOIN {SNAPSHOT} s ON {on} WHERE {moved} "  # close changed
        f"UNION ALL {close} ANTI JOIN {SNAPSHOT} s ON {on} "  # hard deletes
        f"UNION ALL SELECT {col_list(columns, 's')}, c.{ident(VALID_FROM)}, NULL, true "
        f"FROM {SNAPSHOT} s JOIN {CURRENT} c ON {on} WHERE NOT ({moved}) AND {touched})",
        {"ts": ts},
    )
    return _counts(ws, keys, on)


def _counts(ws: Workspace, keys: Sequence[str], on: str) -> tuple[int, int, int]:
    rows = ws.rows(
        f"SELECT (SELECT count(*) FROM {SNAPSHOT} s ANTI JOIN {CURRENT} c ON {on}), "
        f"(SELECT count(DISTINCT ({col_list(keys)})) FROM {DIFF} WHERE {ident(IS_CURRENT)}) "
        f"- (SELECT count(*) FROM {SNAPSHOT} s ANTI JOIN {CURRENT} c ON {on}), "
        f"(SELECT count(*) FROM {CURRENT} c ANTI JOIN {SNAPSHOT} s ON {on})"
    )
    return (int(rows[0][0]), int(rows[0][1]), int(rows[0][2])) if rows else (0, 0, 0)


def _reject_stale(ws: Workspace, ts: SnapshotTime, table: str) -> None:
    """A snapshot must be newer than every version it would close or reopen."""
    latest = ws.scalar(
        f"SELECT greatest(max({ident(VALID_FROM)}), max({ident(VALID_TO)})) FROM {TARGET}"
    )
    if latest is not None and not latest < ts:
        raise KindSpecError(
            f"snapshot time {ts} is not after the dimension's latest version ({latest})",
            table=table,
            hint="apply snapshots in time order; rebuild with --full-refresh to replay history",
        )
