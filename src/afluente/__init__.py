"""afluente — declare sources and bronze/silver/gold tables; run them on Delta Lake.

Importing `afluente` is cheap: it exposes the decorators Python models use and nothing that
pulls in DuckDB, Arrow or Delta.
"""

from afluente.model.decorators import materialized_view, table, view

__version__ = "0.1.0"

__all__ = ["__version__", "materialized_view", "table", "view"]
