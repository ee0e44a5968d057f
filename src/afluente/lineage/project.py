"""Lineage of a whole project: every node of the graph, in topological order, each SQL model
resolved against the columns of its inputs (from Delta when the table exists, else from the
upstream model's own lineage). Sources link bronze columns to the external data they read."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from afluente.lineage.model import SOURCE_PREFIX, ColumnEdge, ColumnKey, DatasetInfo, ModelLineage
from afluente.lineage.sql_columns import UnresolvedSql, query_lineage
from afluente.model import Graph, Node, TableRef

log = logging.getLogger("afluente.lineage")
_DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306, "mariadb": 3306}
ColumnsOf = Callable[[TableRef], Sequence[str] | None]  # stored columns of a table, if built


@dataclass(frozen=True)
class ProjectLineage:
    """Lineage of every dataset (tables and sources) of a project, by name."""

    datasets: dict[str, ModelLineage]

    def edges(self) -> list[ColumnEdge]:
        return [e for m in self.datasets.values() for e in (*m.edges, *m.indirect)]

    def warnings(self) -> list[str]:
        return [w for m in self.datasets.values() for w in m.warnings]


def project_lineage(graph: Graph, columns_of: ColumnsOf) -> ProjectLineage:
    """Lineage of every node of `graph`; unresolvable SQL degrades to table level."""
    done: dict[str, ModelLineage] = {}
    for ref in graph.order:
        update_lineage(graph[ref], columns_of, done)
    return ProjectLineage(done)


def update_lineage(
    node: Node, columns_of: ColumnsOf, done: dict[str, ModelLineage], warn: bool = True
) -> None:
    """(Re)compute the lineage of one node into `done`, whose entries give the columns of its
    inputs that are not stored yet. Used after a model is written, to see its real schema."""
    if node.language == "source":
        source = _source_lineage(node, columns_of(node.ref))
        done[source.dataset.inputs[0]] = _external(source)
        done[str(node.ref)] = source
    elif node.language == "sql":
        done[str(node.ref)] = _sql_lineage(node, columns_of, done, warn)
    else:
        done[str(node.ref)] = _python_lineage(node, columns_of(node.ref))


def _sql_lineage(
    node: Node, columns_of: ColumnsOf, done: dict[str, ModelLineage], warn: bool
) -> ModelLineage:
    inputs = {str(up): _input_columns(up, columns_of, done) for up in node.upstream}
    name = str(node.ref)
    try:
        found = query_lineage(node.sql or "", name, inputs)
    except UnresolvedSql as exc:
        message = (f"{name} ({node.location.file}): column lineage falls back to table level: "
                   f"{exc.construct}")
        if warn:
            log.warning(message)
        info = _info(node, tuple(columns_of(node.ref) or ()), "sql")
        return ModelLineage(info, warnings=(message,), column_level=False)
    return ModelLineage(_info(node, found.columns, "sql"), found.edges, (), True, found.indirect)


def _input_columns(up: TableRef, columns_of: ColumnsOf, done: dict[str, ModelLineage]) -> list[str]:
    stored = columns_of(up)
    if stored:
        return list(stored)
    known = done.get(str(up))
    return list(known.dataset.columns) if known else []


def _python_lineage(node: Node, stored: Sequence[str] | None) -> ModelLineage:
    """Python models declare their inputs; column lineage only where a column declares
    `derived_from` (`columns: {revenue: {derived_from: [silver.orders.amount]}}`)."""
    target = str(node.ref)
    inputs = {str(u) for u in node.upstream}
    edges: list[ColumnEdge] = []
    warnings: list[str] = []
    for column, doc in node.config.columns.items():
        for origin in doc.derived_from:
            table, _, source_column = origin.rpartition(".")
            if table not in inputs:
                warnings.append(
                    f"{target} ({node.location.file}): column `{column}` is derived from "
                    f"`{origin}`, but `{table}` is not one of the model's inputs "
                    f"({', '.join(sorted(inputs)) or 'none'})"
                )
                continue
            edges.append(ColumnEdge(ColumnKey(target, column), ColumnKey(table, source_column),
                                    doc.transformation, "declared"))
    for message in warnings:
        log.warning(message)
    columns = tuple(stored or ()) or tuple(node.config.columns)
    return ModelLineage(_info(node, columns, "python"), tuple(edges), tuple(warnings),
                        column_level=bool(edges))


def _source_lineage(node: Node, stored: Sequence[str] | None) -> ModelLineage:
    """A bronze table's columns come from the same-named columns of what the source reads;
    afluente's own columns (`_ingested_at`, `_row_hash`, ...) come from nowhere outside."""
    spec = json.loads(node.code or "{}")
    external = SOURCE_PREFIX + (node.source_name or node.ref.name)
    columns = tuple(stored or ())
    target = str(node.ref)
    edges = tuple(ColumnEdge(ColumnKey(target, c), ColumnKey(external, c), "identity", "ingest")
                  for c in columns if not c.startswith("_"))
    info = DatasetInfo(target, columns, (external,), "source", _where(spec))
    return ModelLineage(info, edges)


def _external(bronze: ModelLineage) -> ModelLineage:
    columns = tuple(e.source.column for e in bronze.edges)
    name = bronze.dataset.inputs[0]
    return ModelLineage(DatasetInfo(name, columns, (), "external", bronze.dataset.location))


def _where(spec: dict[str, object]) -> str:
    """Where a source reads from, without credentials."""
    kind = str(spec.get("type", ""))
    if spec.get("path") and kind in ("files", "seed"):
        return str(spec["path"])
    if spec.get("url") and kind == "rest":
        return f"{spec['url']}{spec.get('endpoint') or ''}"
    url = urlsplit(str(spec.get("url") or ""))
    table = spec.get("source_table") or ("query" if spec.get("query") else "")
    host = spec.get("host") or url.hostname or ""
    port = spec.get("port") or url.port or _DEFAULT_PORTS.get(kind)
    address = f"{host}:{port}" if port else host
    database = spec.get("database") or url.path.strip("/")
    return f"{kind}://{address}/{database}/{table}".rstrip("/")


def _info(node: Node, columns: tuple[str, ...], language: str) -> DatasetInfo:
    return DatasetInfo(str(node.ref), columns, tuple(str(u) for u in node.upstream), language,
                       str(node.location))
