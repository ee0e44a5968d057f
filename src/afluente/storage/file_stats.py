"""What a Delta table version's add actions say without reading any data file."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

#: Writers may keep only a prefix of a long string in the statistics (Delta's writers keep
#: 32 characters): a maximum that long may be below the file's real one.
STRING_STATS_PREFIX = 32


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


def key_ranges(table: DeltaTable, column: str) -> dict[str, tuple[Any, Any]] | None:
    """The `(min, max)` of `column` in each data file of the loaded version (by the file's
    path in the log), from the statistics in the log; None when they cannot bound every file
    (a file without them, a partition column, a type whose statistics may be truncated or
    are not compared here). A file whose column is all NULL holds no key and is left out."""
    actions = pa.table(table.get_add_actions(flatten=True))
    low, high = f"min.{column}", f"max.{column}"
    if low not in actions.column_names or high not in actions.column_names:
        return None if actions.num_rows else {}
    kind = actions[low].type
    if not (pa.types.is_integer(kind) or pa.types.is_string(kind)
            or pa.types.is_large_string(kind) or pa.types.is_date32(kind)):
        return None
    lows, highs = actions[low].to_pylist(), actions[high].to_pylist()
    nulls = actions[f"null_count.{column}"].to_pylist() if (
        f"null_count.{column}" in actions.column_names) else [None] * len(lows)
    records = actions["num_records"].to_pylist() if (
        "num_records" in actions.column_names) else [None] * len(lows)
    ranges: dict[str, tuple[Any, Any]] = {}
    paths = actions["path"].to_pylist()
    for path, lo, hi, null, rows in zip(paths, lows, highs, nulls, records, strict=True):
        if lo is None or hi is None:
            if rows is not None and null is not None and null == rows:
                continue  # every value NULL: no key can match in this file
            return None
        if isinstance(hi, str) and len(hi) >= STRING_STATS_PREFIX:
            return None  # the writer may have truncated the maximum
        ranges[path] = (lo, hi)
    return ranges
