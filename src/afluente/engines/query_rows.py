"""A read-only query's result as Python values: what `afluente query` prints.

DuckDB hands its rows over as Python values directly, so a query that reads no table (`select
1`, `afluente query "select current_date"`) never loads Arrow; an engine that answers in
Arrow converts its table (`QueryRows.of_arrow`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class QueryRows:
    """Column names (repeated names kept) and the rows, each a tuple in column order."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    @classmethod
    def of_arrow(cls, table: pa.Table) -> QueryRows:
        columns = [column.to_pylist() for column in table.columns]
        return cls(list(table.column_names), list(zip(*columns, strict=True)))

    def records(self) -> list[dict[str, Any]]:
        """One dict per row (a repeated column name keeps its last value)."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]
