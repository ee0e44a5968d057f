"""Write a model's output with its kind: one call of the transform library, or an append /
partition replace, each one Delta commit carrying the caller's commit properties."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties, write_deltalake
from deltalake.exceptions import CommitFailedError

from afluente.errors import AfluenteError, CommitConflictError, StorageError
from afluente.model import Node
from afluente.storage.view_types import rewrite_view_files
from afluente.storage.writable import ensure_writable
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
    props: CommitProperties | None,
    *,
    started_at: datetime,
    rebuild: bool,
) -> KindOutcome:
    """Fold `reader` (the model's output) into `target` the way the model's kind says; the
    files a merge wrote with Arrow view types are then rewritten with plain ones (see
    `storage.view_types`)."""
    ensure_writable(target.uri, target.label)
    outcome = _fold(target, node, reader, props, started_at=started_at, rebuild=rebuild)
    if outcome.version is None:
        return outcome
    try:
        plain = rewrite_view_files(target.uri, props)
    except Exception as exc:
        raise commit_error(exc, target.label) from exc
    return outcome if plain is None else replace(outcome, version=plain)


def _fold(
    target: Target,
    node: Node,
    reader: pa.RecordBatchReader,
    props: CommitProperties | None,
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
        done = merge(target, reader, spec, commit_properties=props)
        return KindOutcome(done.version, done.upserted + done.deleted, done.quarantined)
    if config.kind == "apply_changes":
        assert config.keys is not None and config.sequence_by is not None
        feed = ChangeFeedSpec(
            config.keys, config.sequence_by, config.apply_as_deletes,
            config.except_columns or (), config.scd_type or 1, config.track_history_columns,
            on_null,
        )
        applied = apply_changes(target, reader, feed, commit_properties=props)
        return KindOutcome(applied.version, applied.rows_written, applied.quarantined)
    if config.kind == "snapshot":
        assert config.keys is not None
        snap = SnapshotSpec(config.keys, config.track_columns, on_null)
        at = started_at.astimezone(UTC).replace(tzinfo=None)  # TIMESTAMP validity, in UTC
        taken = snapshot_scd2(target, reader, snap, at, commit_properties=props)
        rows = taken.inserted + taken.changed + taken.deleted
        return KindOutcome(taken.version, rows, taken.quarantined)
    if config.kind == "time_range":
        return replace_partitions(target, node, reader, props, None)
    return append_rows(target, reader, props, overwrite=rebuild)


def append_rows(
    target: Target, reader: pa.RecordBatchReader, props: CommitProperties | None,
    *, overwrite: bool,
) -> KindOutcome:
    """Add the rows (new columns added to the table), or replace the table's content."""
    table = reader.read_all()
    _write(target, table, props, mode="overwrite" if overwrite else "append")
    opened = target.open()
    assert opened is not None
    return KindOutcome(opened.version(), table.num_rows)


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
    props: CommitProperties | None,
    partitions: Sequence[object] | None,
) -> KindOutcome:
    """Write the rows of `partitions` (all of the output when None) replacing what the table
    held for them, in one commit; the table is partitioned by the time unit."""
    ensure_writable(target.uri, target.label)
    table = with_partition(node, reader)
    column = partition_column(node)
    if partitions is None:
        _write(target, table, props, mode="overwrite", partition_by=[column])
    else:
        wanted = pa.array(list(partitions), table.schema.field(column).type)
        table = table.filter(pc.is_in(table[column], value_set=wanted))
        values = ", ".join(f"'{v}'" for v in partitions)
        predicate = f"{column} IN ({values})" if partitions else "false"
        _write(target, table, props, mode="overwrite", partition_by=[column],
               predicate=predicate)
    opened = target.open()
    assert opened is not None
    return KindOutcome(opened.version(), table.num_rows)


def _write(
    target: Target,
    table: pa.Table,
    props: CommitProperties | None,
    *,
    mode: Literal["overwrite", "append"],
    partition_by: list[str] | None = None,
    predicate: str | None = None,
) -> None:
    try:
        if mode == "overwrite":
            write_deltalake(
                target.uri, table, mode="overwrite",
                schema_mode="overwrite" if predicate is None else "merge",
                partition_by=partition_by, predicate=predicate, commit_properties=props,
                storage_options=target.storage_options,
            )
        else:
            write_deltalake(
                target.uri, table, mode="append", schema_mode="merge",
                partition_by=partition_by, commit_properties=props,
                storage_options=target.storage_options,
            )
    except Exception as exc:
        raise commit_error(exc, target.label) from exc


def commit_error(exc: Exception, table: str) -> AfluenteError:
    if isinstance(exc, AfluenteError):
        return exc
    if isinstance(exc, CommitFailedError):
        return CommitConflictError(
            f"another writer committed to `{table}` first: {exc}",
            table=table,
            hint="retry the run; nothing was written",
        )
    return StorageError(
        f"writing `{table}` failed: {exc}", table=table, hint="the table is unchanged"
    )
