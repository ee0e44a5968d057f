"""`afluente validate` checks every model's expectations without reading a row.

Each model's output columns come from its engine (its `engine:`, else the project's) binding
its SQL over empty tables: stored tables
contribute only their Delta schema, a SQL model is an empty table of the columns its current
SQL gives (`model_binding`). When
a model cannot be bound that way (its source was never ingested, a Python model never ran),
its column names come from column lineage instead, and the SQL of `expression`/`aggregate`
rules is only parsed. Errors are the same ConfigErrors a run raises: model file, expectation,
problem.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from afluente.config import Project
from afluente.engines import Engine
from afluente.errors import ConfigError
from afluente.lineage import ModelLineage, update_lineage
from afluente.model import Graph, Node, TableRef
from afluente.quality.evaluate import Target, check_columns, check_regex, check_rules, describe
from afluente.quality.rules import Expectation, parse_expectations
from afluente.runtime.model_binding import Declared, bind_graph, source_columns
from afluente.runtime.model_engines import ModelEngines
from afluente.sql_text import table as qualified
from afluente.storage import Warehouse


def validate_expectations(project: Project, graph: Graph) -> int:
    """Check the expectations of every model; return how many were checked."""
    nodes = [graph[ref] for ref in graph.order if graph[ref].config.expectations]
    if not nodes:
        return 0
    warehouse = Warehouse(project.warehouse_uri)
    engines = ModelEngines(project)
    by_engine: dict[str, list[Node]] = {}  # each model's rules bind on its own engine
    for node in nodes:
        by_engine.setdefault(engines.name_of(node), []).append(node)
    lineage: dict[str, ModelLineage] | None = None
    for name, mine in by_engine.items():
        engine = engines.create(name)
        try:
            bound = attach_empty(engine, warehouse, graph,
                                 lambda node: source_columns(project, node))
            if lineage is None and any(n.ref not in bound for n in mine):
                lineage = graph_lineage(graph, warehouse)
            for node in mine:
                _validate_node(engine, node, bound, lineage or {})
        finally:
            engine.close()
    return sum(len(n.config.expectations) for n in nodes)


def _validate_node(engine: Engine, node: Node, bound: set[TableRef],
                   lineage: dict[str, ModelLineage]) -> None:
    rules = parse_expectations(node.config.expectations, node.location, node.name,
                               node.config_doc)
    target = Target(node.name, node.location)
    if node.ref in bound:
        source = f"SELECT * FROM {qualified(node.ref)}"
        checkable = [r for r in rules if _target_bound(r, bound)]
        check_rules(engine, checkable, describe(engine, source), source, target)
    else:
        check_unbound(rules, _columns(node, lineage), target)


def attach_empty(engine: Engine, warehouse: Warehouse, graph: Graph,
                 declared: Declared | None = None) -> set[TableRef]:
    """Make every table bindable with no rows (`model_binding`); return the tables that
    could be bound. A SQL model is its current SQL (not its stored, maybe older, schema)."""
    if declared is None:
        return bind_graph(engine, warehouse, graph).readable
    return bind_graph(engine, warehouse, graph, declared).readable


def _target_bound(rule: Expectation, bound: set[TableRef]) -> bool:
    if rule.relationships is None:
        return True
    return TableRef.parse(rule.relationships.to) in bound


def check_unbound(rules: tuple[Expectation, ...], columns: list[str], target: Target) -> None:
    """What can be checked without binding: columns named (when lineage knows the output),
    regexes, and that rule SQL parses."""
    for rule in rules:
        if columns:
            check_columns(rule, columns, target)
        if rule.regex is not None:
            check_regex(rule, target)
        text = rule.expression if rule.expression is not None else rule.aggregate
        if text is not None:
            _check_parses(rule, text, target)


def _check_parses(rule: Expectation, text: str, target: Target) -> None:
    try:
        sqlglot.parse_one(f"SELECT {text}", dialect="duckdb")
    except ParseError as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(
            f"expectation `{rule.name}`: invalid SQL in `{rule.rule}`: {first}",
            location=target.location, table=target.table,
            hint="the expression must be valid DuckDB SQL over the model's columns",
        ) from None


def graph_lineage(graph: Graph, warehouse: Warehouse) -> dict[str, ModelLineage]:
    """Column lineage of every model, reading stored tables' columns where they exist."""

    def stored(ref: TableRef) -> list[str] | None:
        schema = warehouse.schema(ref)
        return list(schema.names) if schema is not None else None

    done: dict[str, ModelLineage] = {}
    for ref in graph.order:
        update_lineage(graph[ref], stored, done, warn=False)
    return done


def _columns(node: Node, lineage: dict[str, ModelLineage]) -> list[str]:
    """The output columns lineage resolved, else the names the outer SELECT gives (none when
    it has a star over an input whose columns are unknown)."""
    found = lineage.get(str(node.ref))
    if found is not None and found.column_level and found.dataset.columns:
        return list(found.dataset.columns)
    if node.language != "sql" or node.sql is None:
        return []
    try:
        query = sqlglot.parse_one(node.sql, dialect="duckdb")
    except ParseError:
        return []
    if not isinstance(query, exp.Query) or any(
        s.find(exp.Star) or not s.alias_or_name for s in query.selects
    ):  # a star or an unnamed expression: the names DuckDB gives are not known here
        return []
    return list(query.named_selects)
