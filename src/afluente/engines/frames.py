"""Turn whatever a Python model returns into an Arrow record batch reader."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

from afluente.engines.duckdb_connection import relation_reader
from afluente.errors import EngineError

ACCEPTED = "a DuckDB relation, an Arrow table/batch/reader, or a Polars or pandas frame"


def to_reader(result: Any) -> pa.RecordBatchReader:
    """Convert a model's return value without copying through pandas."""
    import pyarrow as pa

    if isinstance(result, pa.RecordBatchReader):
        return result
    if isinstance(result, pa.Table):
        return result.to_reader()
    if isinstance(result, pa.RecordBatch):
        return pa.Table.from_batches([result]).to_reader()
    if type(result).__name__ == "DuckDBPyRelation":
        return relation_reader(result)
    collect = getattr(result, "collect", None)
    if callable(collect) and type(result).__name__ == "LazyFrame":
        result = collect()
    if hasattr(result, "__arrow_c_stream__"):
        return pa.RecordBatchReader.from_stream(result)
    raise EngineError(
        f"the model returned {type(result).__name__}; return {ACCEPTED}",
        hint="e.g. `return orders.filter(\"status = 'paid'\")`",
    )
