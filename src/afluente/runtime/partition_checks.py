"""`afluente validate` (and `afluente backfill` before it starts) check that every
time_range model's `time_column` is a DATE or TIMESTAMP column of its output.

The output columns come the way expectations get theirs (`quality_validate`): DuckDB binds
the model's SQL over empty tables (no row read); a model that cannot be bound (its source was
never ingested, a Python model) gets its column names from column lineage, and only the name
is checked. The error names the line of `time_column:` in the model file and the columns the
output has.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from afluente.config import Project
from afluente.engines import project_engine
from afluente.errors import Location, ModelError
from afluente.lineage import ModelLineage
from afluente.model import Graph, Node, TableRef
from afluente.quality.evaluate import describe
from afluente.runtime.encryption import decrypting
from afluente.runtime.quality_validate import attach_empty, graph_lineage
from afluente.sql_text import table as qualified
from afluente.storage import Warehouse

TIME_TYPES = ("DATE", "TIMESTAMP")


def check_partition_columns(
    project: Project, graph: Graph, refs: Iterable[TableRef] | None = None
) -> int:
    """Check the time_range models among `refs` (all by default); return how many."""
    chosen = set(graph.order if refs is None else refs)
    nodes = [graph[r] for r in graph.order if r in chosen and graph[r].table_kind.time_partitioned]
    if not nodes:
        return 0
    warehouse = Warehouse(project.warehouse_uri)
    engine = decrypting(project_engine(project), project)
    try:
        bound = attach_empty(engine, warehouse, graph)
        unbound = [n for n in nodes if n.ref not in bound]
        lineage = graph_lineage(graph, warehouse) if unbound else {}
        for node in nodes:
            if node.ref in bound:
                columns = describe(engine, f"SELECT * FROM {qualified(node.ref)}")
            else:
                columns = _lineage_columns(lineage, node)
            check_time_column(node, columns)
    finally:
        engine.close()
    return len(nodes)


def check_time_column(node: Node, columns: dict[str, str]) -> None:
    """`columns`: output column -> SQL type ("" when only the name is known; nothing is
    checked when no column is known)."""
    if not columns:
        return
    column = node.config.time_column
    assert column is not None
    where = time_column_location(node)
    if column not in columns:
        shown = ", ".join(f"{name} {kind}".strip() for name, kind in columns.items())
        raise ModelError(
            f"time_column `{column}` is not a column of the output of `{node.name}` "
            f"(its columns: {shown})",
            location=where, table=node.name,
            hint="set time_column to the output column holding the row's date or timestamp, "
            "or select that column in the model",
        )
    kind = columns[column].upper()
    if kind and not kind.startswith(TIME_TYPES):
        raise ModelError(
            f"time_column `{column}` of `{node.name}` is {kind}; partitions need a DATE or "
            "TIMESTAMP",
            location=where, table=node.name,
            hint=f"cast it in the model, e.g. CAST({column} AS DATE) AS {column}",
        )


def time_column_location(node: Node) -> Location:
    """The line of `time_column` in the model file (else the model's own location)."""
    try:
        lines = Path(node.location.file).read_text(encoding="utf-8").splitlines()
    except OSError:
        return node.location
    for number, line in enumerate(lines, start=1):
        if "time_column" in line:
            return Location(node.location.file, number)
    return node.location


def _lineage_columns(lineage: dict[str, ModelLineage], node: Node) -> dict[str, str]:
    found = lineage.get(str(node.ref))
    if node.language != "sql" or found is None or not found.column_level:
        return {}
    return dict.fromkeys(found.dataset.columns, "")
