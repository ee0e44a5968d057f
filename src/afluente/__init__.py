"""afluente — declare sources and bronze/silver/gold tables; run them on Delta Lake.

Importing `afluente` is cheap: it exposes the decorators Python models use and nothing that
pulls in DuckDB, Arrow or Delta.
"""

from typing import Any

from afluente.model.decorators import materialized_view, score, table, train, view

__version__ = "0.1.0"

__all__ = ["__version__", "materialized_view", "score", "sql", "table", "train", "view"]


def sql(query: str, **frames: Any) -> Any:
    """Run `query`, written in the project's SQL (DuckDB's dialect, as SQL models), over the
    named frames a Python model received, on the engine that gave them: a DuckDB relation
    on DuckDB, a Spark DataFrame on Spark. The one way to write a Python model that runs
    on either engine: `return afluente.sql("SELECT ... FROM orders", orders=orders)`."""
    from afluente.engines.frame_sql import run_sql

    return run_sql(query, frames)
