"""DuckDB connections as afluente opens them, and Arrow streams out of DuckDB relations.

Only `afluente.engines` talks to DuckDB; every DuckDB connection of the package is opened here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

from afluente.streams import BATCH_ROWS


def duckdb_connect(database: str = ":memory:", config: dict[str, Any] | None = None) -> Any:
    """A DuckDB connection as afluente uses them: without DuckDB's own progress bar, which
    it prints to *stdout* for queries over two seconds (it would corrupt `--json` output)."""
    import duckdb  # here, not at import: commands that never query start faster

    connection = duckdb.connect(database, config=config or {})
    connection.execute("SET enable_progress_bar = false")
    return connection


def relation_reader(relation: Any, rows: int = BATCH_ROWS) -> pa.RecordBatchReader:
    """A streaming reader over a DuckDB relation, across DuckDB versions."""
    import pyarrow as pa

    method = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
    reader = method(rows)
    assert isinstance(reader, pa.RecordBatchReader)
    return reader
