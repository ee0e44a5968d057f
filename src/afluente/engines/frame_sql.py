"""`afluente.sql`: a query in the project's dialect (DuckDB's) over a Python model's input
frames, run by the engine the frames came from, so one function body works on DuckDB and on
Spark.

The frames are named for the query by a `WITH` around it (`WITH orders AS (SELECT * FROM
<registered frame>) SELECT * FROM (<query>)`): the query's own CTEs and subqueries keep
their meaning and nothing in its text is renamed. On Spark the whole text is transpiled as a
SQL model's is (`spark_sql`)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from afluente.errors import EngineError, Location
from afluente.sql_text import ident as quote_ident

ORIGIN = Location("<afluente.sql>")
_counter = itertools.count()


def run_sql(query: str, frames: Mapping[str, Any]) -> Any:
    """`query` over `frames` (name → DuckDB relation or Spark DataFrame, all of one engine)
    as a frame of that engine."""
    if not frames:
        raise EngineError("afluente.sql needs at least one frame to query",
                          hint="pass the model's inputs: afluente.sql(query, orders=orders)")
    kinds = {_kind(frame) for frame in frames.values()}
    if len(kinds) != 1 or None in kinds:
        found = ", ".join(f"{name}: {type(f).__name__}" for name, f in frames.items())
        raise EngineError(
            f"afluente.sql takes the frames one engine gave the model; got {found}",
            hint="pass the function's input frames unchanged (DuckDB relations or Spark "
            "DataFrames)")
    registered = {name: _register(frame, name) for name, frame in frames.items()}
    text = _wrapped(query, registered)
    if kinds == {"spark"}:
        return _spark(text, next(iter(frames.values())))
    first = next(iter(frames))
    return frames[first].query(registered[first], text)


def frame_engine(frame: Any) -> str | None:
    """`duckdb` or `spark`: the engine that gave a Python model this frame (None: neither)."""
    return _kind(frame)


def frame_schema(frame: Any) -> dict[str, str]:
    """Column -> type of an engine's frame (DuckDB's or Spark's type names)."""
    if _kind(frame) == "spark":
        return {str(name): str(kind) for name, kind in frame.dtypes}
    if _kind(frame) == "duckdb":
        return {str(n): str(t) for n, t in zip(frame.columns, frame.types, strict=True)}
    raise EngineError(f"expected a frame a model received, got {type(frame).__name__}",
                      hint="pass the function's input frames unchanged")


def _kind(frame: Any) -> str | None:
    cls = type(frame)
    if cls.__name__ == "DuckDBPyRelation":
        return "duckdb"
    if cls.__name__ == "DataFrame" and cls.__module__.startswith("pyspark"):
        return "spark"
    return None


def _register(frame: Any, name: str) -> str:
    unique = f"__afluente_frame_{next(_counter)}_{name}"
    if _kind(frame) == "spark":
        frame.createOrReplaceTempView(unique)
    else:
        frame.create_view(unique, replace=True)
    return unique


def _wrapped(query: str, registered: Mapping[str, str]) -> str:
    names = ", ".join(f"{quote_ident(name)} AS (SELECT * FROM {quote_ident(view)})"
                      for name, view in registered.items())
    return f"WITH {names} SELECT * FROM ({query.strip().rstrip(';')}) AS __afluente_sql"


def _spark(text: str, frame: Any) -> Any:
    from afluente.engines.spark_sql import Names, to_spark

    return frame.sparkSession.sql(to_spark(text, Names({}, {}), ORIGIN, "afluente.sql"))
