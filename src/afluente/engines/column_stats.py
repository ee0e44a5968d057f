"""What an engine reports when it profiles rows: per column, how many values are present,
about how many distinct (an estimate such as HyperLogLog's), and the mean of a numeric
column (engine-neutral result types)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnStats:
    """One column of profiled rows."""

    present: int  # non-null values
    distinct: int  # distinct non-null values, estimated (docs/observability.md: error)
    mean: float | None  # only for the columns asked to be averaged


@dataclass(frozen=True)
class RowsProfile:
    """The rows profiled (after any skipped ones) and each requested column's numbers."""

    rows: int
    columns: dict[str, ColumnStats]
