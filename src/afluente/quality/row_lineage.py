"""Carry bronze's lineage columns through a model's SQL, so a quarantined row keeps them.

A quarantined row is a copy of the model's output; when the model does not select
`_source` and `_rescued_data` (the file, and for a rescued line its line and raw text), the
copy would lose where the record came from. :func:`with_lineage` adds them to the model's
query under hidden names (`__afq_lineage__source`, ...), so they ride along in the same single
pass that evaluates the expectations and are left out of the kept rows.

Only a query whose rows map one to one onto the rows of one table it reads is traced: a
`SELECT` (through CTEs and subqueries in its `FROM`) without `GROUP BY`, `DISTINCT`,
aggregates or set operations. When several tables it reads carry lineage (a join), the first
one in `FROM` order wins: it is the table that drives the row. Any other query is returned
unchanged, and its quarantined rows hold what the model selected. Pure: which tables carry
which lineage columns is asked through `carried`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

LINEAGE_COLUMNS = ("_source", "_rescued_data")
HIDDEN_PREFIX = "__afq_lineage_"
DIALECT = "duckdb"

# (schema, table) -> the lineage columns that table has
Carried = Callable[[str, str], Sequence[str]]


def hidden(column: str) -> str:
    return f"{HIDDEN_PREFIX}{column}"


def with_lineage(sql: str, carried: Carried,
                 wanted: Sequence[str] = LINEAGE_COLUMNS) -> tuple[str, list[str]]:
    """`sql` with the `wanted` lineage columns of the table its rows come from added under
    hidden names, and the lineage columns added (none: `sql` itself)."""
    try:
        tree = sqlglot.parse_one(sql, read=DIALECT)
    except SqlglotError:
        return sql, []
    if not isinstance(tree, exp.Select):
        return sql, []
    ctes = {cte.alias_or_name: cte.this for cte in tree.ctes}
    added = _carry(tree, ctes, carried, list(wanted))
    if not added:
        return sql, []
    return tree.sql(dialect=DIALECT), added


def _carry(select: exp.Select, ctes: dict[str, exp.Expression], carried: Carried,
           wanted: list[str]) -> list[str]:
    """Add the hidden lineage columns to `select`'s output; return which were added."""
    already = [c for c in wanted if hidden(c) in select.named_selects]
    if already:  # a CTE read twice
        return already
    if not _one_to_one(select):
        return []
    for source in _sources(select):
        qualifier, found = _lineage_of(source, ctes, carried, wanted)
        if found:
            if select.is_star and all(name == hidden(c) for c, name in found):
                return [column for column, _ in found]  # `*` passes them on already
            for column, name in found:
                select.select(exp.alias_(exp.column(name, table=qualifier, quoted=True),
                                         hidden(column), quoted=True), copy=False)
            return [column for column, _ in found]
    return []


def _lineage_of(source: exp.Expression, ctes: dict[str, exp.Expression], carried: Carried,
                wanted: list[str]) -> tuple[str, list[tuple[str, str]]]:
    """(the name to qualify the source's columns with, [(lineage column, its name there)])."""
    qualifier = source.alias_or_name
    if isinstance(source, exp.Subquery) and isinstance(source.this, exp.Select):
        added = _carry(source.this, ctes, carried, wanted)
        return qualifier, [(c, hidden(c)) for c in added]
    if not isinstance(source, exp.Table) or not isinstance(source.this, exp.Identifier):
        return qualifier, []
    cte = ctes.get(source.name) if not source.db else None
    if cte is not None:
        added = _carry(cte, ctes, carried, wanted) if isinstance(cte, exp.Select) else []
        return qualifier, [(c, hidden(c)) for c in added]
    present = set(carried(source.db, source.name))
    return qualifier, [(c, c) for c in wanted if c in present]


def _sources(select: exp.Select) -> list[exp.Expression]:
    found = select.args.get("from_") or select.args.get("from")
    sources = [found.this] if found is not None else []
    return sources + [join.this for join in select.args.get("joins") or ()]


def _one_to_one(select: exp.Select) -> bool:
    """Whether each output row is one row of the query's sources (no grouping)."""
    if select.args.get("group") or select.args.get("distinct"):
        return False
    for projection in select.expressions:
        for agg in projection.find_all(exp.AggFunc):
            if agg.find_ancestor(exp.Window) is None:
                return False
    return True
