"""Write a model's output with its kind: one call of the transform library, or an append /
partition replace, each one Delta commit made by storage carrying the caller's commit
description."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from afluente.model import Node
from afluente.storage.commits import CommitDescription
from afluente.streams import duckdb_connect, relation_reader
from afluente.transform import (
    ChangeFeedSpec,
    MergeSpec,
    SnapshotSpec,
    Target,
    apply_changes,
    merge,
    snapshot_scd2,
)

# columns the kinds add to the stored table (never part of a model's output)
RESERVED = frozenset(
    {"__cdc_sequence", "__cdc_deleted", "__cdc_visible", "valid_from", "valid_to", "is_current"}
)
PARTITION_PREFIX = "_partition_"


@dataclass(frozen=True)
class KindOutcome:
    version: int | None  # None: the table did not change
    rows: int
    quarantined: pa.Table | None = None


def write_kind(
    target: Target,
    node: Node,
    reader: pa.RecordBatchReader,
    commit: CommitDescription | None,
    *,
    started_at: datetime,
    rebuild: bool,
) -> KindOutcome:
    """Fold `reader` (the model's output) into `target` the way the model's kind says; the
    files a merge wrote with Arrow view types are then rewritten with plain ones (see
    `storage.view_types`)."""
    target.ensure_writable()
    outcome = _fold(target, node, reader, commit, started_at=started_at, rebuild=rebuild)
    if outcome.version is None:
        return outcome
    plain = target.plain_types(commit)
    return outcome if plain is None else replace(outcome, version=plain)


def _fold(
    target: Target,
    node: Node,
    reader: pa.RecordBatchReader,
    commit: CommitDescription | None,
    *,
    started_at: datetime,
    rebuild: bool,
) -> KindOutcome:
    config = node.config
    on_null = config.on_null_key or "error"
    if config.kind == "merge":
        assert config.unique_key is not None
        spec = MergeSpec(config.unique_key, config.delete_when, config.dedupe_by, on_null,
                         config.except_columns or ())
        done = merge(target, reader, spec, commit=commit)
        return KindOutcome(done.version, done.upserted + done.deleted, done.quarantined)
    if config.kind == "apply_changes":
        assert config.keys is not None and config.sequence_by is not None
        feed = ChangeFeedSpec(
            config.keys, config.sequence_by, config.apply_as_deletes,
            config.except_columns or (), config.scd_type or 1, config.track_history_columns,
            on_null,
        )
        applied = apply_changes(target, reader, feed, commit=commit)
        return KindOutcome(applied.version, applied.rows_written, applied.quarantined)
    if config.kind == "snapshot":
        assert config.keys is not None
        snap = SnapshotSpec(config.keys, config.track_columns, on_null)
        at = started_at.astimezone(UTC).replace(tzinfo=None)  # TIMESTAMP validity, in UTC
        taken = snapshot_scd2(target, reader, snap, at, commit=commit)
        rows = taken.inserted + taken.changed + taken.deleted
        return KindOutcome(taken.version, rows, taken.quarantined)
    if config.kind == "time_range":
        return replace_partitions(target, node, reader, commit, None)
    return append_rows(target, reader, commit, overwrite=rebuild)


def append_rows(
    target: Target, reader: pa.RecordBatchReader, commit: CommitDescription | None,
    *, overwrite: bool,
) -> KindOutcome:
    """Add the rows (new columns added to the table), or replace the table's content."""
    table = reader.read_all()
    write = target.overwrite if overwrite else target.append
    return KindOutcome(write(table, commit), table.num_rows)


def partition_column(node: Node) -> str:
    return PARTITION_PREFIX + (node.config.partition_by or "day")


def with_partition(node: Node, reader: pa.RecordBatchReader) -> pa.Table:
    """The output plus its partition column: `time_column` truncated to the unit."""
    unit = node.config.partition_by or "day"
    column = node.config.time_column
    assert column is not None
    cast = "TIMESTAMP" if unit == "hour" else "DATE"
    con = duckdb_connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("__output", reader)
    sql = (
        f'SELECT *, CAST(date_trunc(\'{unit}\', "{column}") AS {cast}) '
        f'AS "{partition_column(node)}" FROM __output'
    )
    return pa.Table.from_batches(relation_reader(con.sql(sql)))


def with_lookback(partitions: Sequence[object], unit: str, lookback: int) -> list[object]:
    """The partitions plus the `lookback` ones before the newest (late data)."""
    if not lookback:
        return list(partitions)
    newest = max(partitions, key=str)
    cast = "TIMESTAMP" if unit == "hour" else "DATE"
    rows = duckdb.execute(
        f"SELECT CAST(date_trunc('{unit}', $newest - to_{unit}s(k)) AS {cast}) "
        f"FROM range(1, {int(lookback) + 1}) t(k)",
        {"newest": newest},
    ).fetchall()
    return sorted({*partitions, *(r[0] for r in rows)}, key=str)


def replace_partitions(
    target: Target,
    node: Node,
    reader: pa.RecordBatchReader,
    commit: CommitDescription | None,
    partitions: Sequence[object] | None,
) -> KindOutcome:
    """Write the rows of `partitions` (all of the output when None) replacing what the table
    held for them, in one commit; the table is partitioned by the time unit."""
    target.ensure_writable()
    table = with_partition(node, reader)
    column = partition_column(node)
    if partitions is None:
        version = target.overwrite(table, commit, partition_by=[column])
    else:
        wanted = pa.array(list(partitions), table.schema.field(column).type)
        table = table.filter(pc.is_in(table[column], value_set=wanted))
        values = ", ".join(f"'{v}'" for v in partitions)
        predicate = f"{column} IN ({values})" if partitions else "false"
        version = target.overwrite(table, commit, partition_by=[column], predicate=predicate)
    return KindOutcome(version, table.num_rows)
