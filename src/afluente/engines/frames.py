"""Turn whatever a Python model returns into an Arrow record batch reader."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

from afluente.engines.duckdb_connection import relation_reader
from afluente.errors import EngineError
from afluente.model import Node

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


# The frame types a Python model may ask for (`frame=` in its decorator). `duckdb` and
# `spark` are an engine's own frames, given only by that engine (`native_frame` of the
# engine class; checked before a run starts); the others are converted from whatever the
# engine gives, through Arrow (the inputs are read in full on the driver).
NATIVE_FRAMES = ("duckdb", "spark")
CONVERTED_FRAMES = ("arrow", "pandas", "polars")


def with_frame(function: Callable[..., Any], frame: str | None) -> Callable[..., Any]:
    """`function`, called with its inputs converted to the frame type it declared."""
    if frame not in CONVERTED_FRAMES:
        return function  # the engine's own frames, as given

    @functools.wraps(function)
    def converted(*args: Any, **kwargs: Any) -> Any:
        return function(*(as_frame(a, frame) for a in args),
                        **{k: as_frame(v, frame) for k, v in kwargs.items()})

    return converted


def as_frame(value: Any, frame: str) -> Any:
    """An engine's input frame (a DuckDB relation, a Spark DataFrame) as `frame`."""
    table = _arrow(value)
    if frame == "pandas":
        return table.to_pandas()
    if frame == "polars":
        import polars

        return polars.from_arrow(table)
    return table


def _arrow(value: Any) -> pa.Table:
    import pyarrow as pa

    if isinstance(value, pa.Table):
        return value
    if type(value).__name__ == "DuckDBPyRelation":
        return relation_reader(value).read_all()
    to_arrow = getattr(value, "toArrow", None)  # a Spark DataFrame
    if callable(to_arrow):
        table = to_arrow()
        assert isinstance(table, pa.Table)
        return table
    return to_reader(value).read_all()


def model_function(node: Node) -> Callable[..., Any]:
    """A Python model's function, taking its inputs as the frame type it declared."""
    assert node.function is not None
    return with_frame(node.function, node.config.frame)
