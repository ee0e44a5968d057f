"""`afluente check` and `afluente profile`: expectations and profiles over the tables as
they are stored now, without rebuilding anything."""

from __future__ import annotations

from typing import Any

from afluente.config import Project
from afluente.engines import Engine, project_engine
from afluente.errors import ModelError
from afluente.model import Graph, Node, TableRef, load_graph
from afluente.model.selector import select
from afluente.quality import compile as qc
from afluente.quality.evaluate import (
    Target,
    by_scope,
    check_rules,
    describe,
    row_results,
    schema_results,
    table_results,
)
from afluente.quality.profile import ColumnProfile, profile
from afluente.quality.results import RuleResult
from afluente.quality.rules import parse_expectations
from afluente.runtime.encryption import decrypting
from afluente.runtime.model_engines import ModelEngines
from afluente.runtime.quality_step import FLAGGED, record_results
from afluente.runtime.query import attach_catalog
from afluente.runtime.runner import new_run_id
from afluente.sql_text import table as qualified
from afluente.state import StateStore
from afluente.storage import Warehouse


def check_project(project: Project, selector: str | None = None) -> list[RuleResult]:
    """Evaluate the selected models' expectations on their current data; record them under
    a `check-...` run id in the quality history."""
    graph = load_graph(project)
    chosen = select(graph, selector)
    warehouse = Warehouse(project.warehouse_uri)
    run_id = f"check-{new_run_id()}"
    results: list[RuleResult] = []
    engines = ModelEngines(project)
    opened: dict[str, Engine] = {}  # each model is checked on its own engine, as run builds it
    try:
        state = StateStore.open(project.state_url)
        try:
            for ref in graph.order:
                node = graph[ref]
                if ref in chosen and node.config.expectations and _checkable(node, warehouse):
                    engine = _engine_of(node, engines, opened, graph)
                    found = _check_table(engine, _source(node), node.config.expectations,
                                         Target(node.name, node.location))
                    record_results(state, run_id, node.name, found)
                    results += found
        finally:
            state.close()
    finally:
        for engine in opened.values():
            engine.close()
    return results


def _engine_of(node: Node, engines: ModelEngines, opened: dict[str, Engine],
               graph: Graph) -> Engine:
    """The engine of `node` (started, with the catalog attached, on first use)."""
    name = engines.name_of(node)
    if name not in opened:
        opened[name] = engines.create(name)
        attach_catalog(opened[name], engines.project, graph)
    return opened[name]


def _checkable(node: Node, warehouse: Warehouse) -> bool:
    return not node.materialized or warehouse.exists(node.ref)


def _source(node: Node) -> str:
    """A table's stored rows (visible rows of apply_changes); a view's own SQL, before its
    rules filter it."""
    if not node.materialized and node.sql is not None:
        return node.sql
    return f"SELECT * FROM {qualified(node.ref)}"


def _check_table(eng: Engine, source: str, raw: tuple[dict[str, Any], ...],
                 target: Target) -> list[RuleResult]:
    rules = parse_expectations(raw, target.location, target.table)
    columns = describe(eng, source)
    check_rules(eng, rules, columns, source, target)
    row_rules = by_scope(rules, "row")
    if row_rules:
        eng.materialize(FLAGGED, qc.flagged_query(source, row_rules), target.location,
                        target.table)  # one pass; the engine spills it, Python holds nothing
    results = schema_results(by_scope(rules, "schema"), columns, target.table)
    results += row_results(eng, qualified(FLAGGED), row_rules, list(columns), target.table)
    eng.release(FLAGGED)
    return results + table_results(eng, f"({source}) AS __afq_checked",
                                   by_scope(rules, "table"), target.table)


def profile_table(project: Project, table: str) -> list[ColumnProfile]:
    """Profile one stored table (`layer.table`)."""
    ref = TableRef.parse(table)
    warehouse = Warehouse(project.warehouse_uri)
    if not warehouse.exists(ref):
        raise ModelError(f"table `{table}` has not been built",
                         hint="run `afluente run` first, or check the name with `afluente show`")
    engine = decrypting(project_engine(project), project)
    try:
        attach_catalog(engine, project, load_graph(project))
        return profile(engine, _governed_relation(project, engine, ref))
    finally:
        engine.close()


def _governed_relation(project: Project, engine: Engine, ref: TableRef) -> str:
    """What `profile` reads: the table, or the governed reader's SELECT of it (masks and
    row filter; docs/governance.md)."""
    from afluente.governance.reader import GovernedReader
    from afluente.runtime.query import table_columns

    reader = GovernedReader.open(project)
    relation = qualified(ref)
    if reader.unrestricted:
        return relation
    sql = reader.table_sql(ref, table_columns(engine, ref) or [])
    return relation if sql is None else f"({sql}) AS {ref.name}"
