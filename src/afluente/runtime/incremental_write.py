"""The writes of the `append` and `time_range` kinds (an append, a partition replace), each
one Delta commit made by storage carrying the caller's commit description, and the SQL that
derives a time_range model's partitions, run in the engine's workspace. The kinds dispatch
in `incremental_strategies`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from afluente.engines.protocol import Workspace
from afluente.model import Node
from afluente.storage.commits import CommitDescription
from afluente.transform import Target
from afluente.transform.sqltext import ident

OUTPUT = "__afluente_output"


@dataclass(frozen=True)
class KindOutcome:
    version: int | None  # None: the table did not change
    rows: int
    quarantined: pa.Table | None = None


def append_rows(
    target: Target, reader: pa.RecordBatchReader, commit: CommitDescription | None,
    *, overwrite: bool,
) -> KindOutcome:
    """Add the rows (new columns added to the table), or replace the table's content."""
    table = reader.read_all()
    write = target.overwrite if overwrite else target.append
    return KindOutcome(write(table, commit), table.num_rows)


def partition_column(node: Node) -> str:
    column = node.table_kind.partition_column(node.config)
    assert column is not None, f"{node.name} is not time-partitioned"
    return column


def with_partition(ws: Workspace, node: Node, reader: pa.RecordBatchReader) -> pa.Table:
    """The output plus its partition column: `time_column` truncated to the unit (in UTC)."""
    unit = node.config.partition_by or "day"
    column = node.config.time_column
    assert column is not None
    cast = "TIMESTAMP" if unit == "hour" else "DATE"
    ws.expose(OUTPUT, reader)
    try:
        return ws.stream(
            f"SELECT *, CAST(date_trunc('{unit}', {ident(column)}) AS {cast}) "
            f"AS {ident(partition_column(node))} FROM {OUTPUT}"
        ).read_all()
    finally:
        ws.drop(OUTPUT)


def with_lookback(partitions: Sequence[object], unit: str, lookback: int) -> list[object]:
    """The partitions plus the `lookback` ones before the newest (late data). Partition
    values are the start of their unit (a date, or a timestamp for `hour`), so the earlier
    ones are plain calendar steps back; no engine is needed."""
    if not lookback:
        return list(partitions)
    newest = max(partitions, key=str)
    earlier = [_units_before(newest, unit, k) for k in range(1, int(lookback) + 1)]
    return sorted({*partitions, *earlier}, key=str)


def _units_before(start: object, unit: str, count: int) -> object:
    """The start of the partition `count` units before the one starting at `start`."""
    if unit == "hour":
        assert isinstance(start, datetime)
        return start - timedelta(hours=count)
    assert isinstance(start, date)
    if unit == "day":
        return start - timedelta(days=count)
    if unit == "month":
        year, month = divmod(start.year * 12 + start.month - 1 - count, 12)
        return start.replace(year=year, month=month + 1, day=1)
    return start.replace(year=start.year - count, month=1, day=1)


def replace_partitions(
    ws: Workspace,
    target: Target,
    node: Node,
    reader: pa.RecordBatchReader,
    commit: CommitDescription | None,
    partitions: Sequence[object] | None,
) -> KindOutcome:
    """Write the rows of `partitions` (all of the output when None) replacing what the table
    held for them, in one commit; the table is partitioned by the time unit."""
    target.ensure_writable()
    table = with_partition(ws, node, reader)
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
