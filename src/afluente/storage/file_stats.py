"""What a Delta table version's add actions say without reading any data file."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable


def rows_from_stats(table: DeltaTable) -> int | None:
    """The rows of the loaded version, summed from its data files' statistics in the log
    (None when a file carries no row count: the caller reads the Parquet footers)."""
    actions = pa.table(table.get_add_actions(flatten=True))
    if "num_records" not in actions.column_names:
        return None if actions.num_rows else 0
    records = actions["num_records"]
    if records.null_count:
        return None
    return int(pc.sum(records).as_py() or 0)


def plain_files(table: DeltaTable) -> bool:
    """Whether the version's data files hold every column under its own name: no partition
    columns (their values live in the log and the paths) and no column mapping (physical
    names differ), so a Parquet reader sees the table's columns in the files themselves."""
    metadata = table.metadata()
    mapping = metadata.configuration.get("delta.columnMapping.mode", "none")
    return not metadata.partition_columns and mapping in ("none", None)
