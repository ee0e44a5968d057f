"""DuckDB shorthand rewritten into the plain SELECT it means, so column lineage sees the columns
it really outputs and reads (a pure pass over a parsed query, run before qualification):

* `GROUP BY ALL` groups by every projection without an aggregate;
* `PIVOT` (`PIVOT t ON c IN (...) USING agg(x) GROUP BY g`, or `FROM t PIVOT (agg(x) FOR c IN
  (...))`) is one `agg(x) FILTER (WHERE c = value)` column per value (and per aggregate),
  grouped by `g` (by default every other column of `t`), named as DuckDB names them.

A PIVOT without an `IN` list (its columns depend on the data) and UNPIVOT stay unresolved."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from sqlglot import exp

Columns = Mapping[str, Sequence[str]]  # "layer.table" -> column names, as in sql_columns


class ShorthandError(Exception):
    """The shorthand cannot be expanded from the query text alone."""


def expand_shorthand(query: exp.Expr, inputs: Columns) -> exp.Expr:
    """`query` with its PIVOTs and `GROUP BY ALL`s spelled out (a copy; `query` is kept)."""
    query = query.copy()
    for pivot in list(query.find_all(exp.Pivot)):
        _expand_pivot(pivot, inputs)
    for group in list(query.find_all(exp.Group)):
        if group.args.get("all") and isinstance(group.parent, exp.Select):
            _expand_group_all(group, group.parent)
    return query


def _expand_group_all(group: exp.Group, select: exp.Select) -> None:
    keys = [p.unalias().copy() for p in select.expressions
            if p.find(exp.AggFunc) is None and not isinstance(p.unalias(), exp.Literal)]
    group.set("all", None)
    group.set("expressions", keys)


def _expand_pivot(pivot: exp.Pivot, inputs: Columns) -> None:
    if pivot.args.get("unpivot"):
        raise ShorthandError("UNPIVOT")
    table = pivot.parent if isinstance(pivot.parent, exp.Table) else None  # `FROM t PIVOT (..)`
    source = (table or pivot.this).copy()
    if table is not None:
        source.set("pivots", None)
    aggregates = pivot.expressions if table else pivot.args.get("using") or []
    fields = (pivot.args.get("fields") if table else pivot.expressions) or []
    keys = _pivot_keys(pivot, source, fields, aggregates, inputs)
    select = exp.select(*keys, *_pivot_columns(fields, aggregates)).from_(source)
    select = select.group_by(*[k.copy() for k in keys]) if keys else select
    if table is None:
        pivot.replace(select)
        return
    alias = exp.TableAlias(this=exp.to_identifier(pivot.alias or source.alias_or_name))
    table.replace(exp.Subquery(this=select, alias=alias))


def _pivot_keys(pivot: exp.Pivot, source: exp.Expr, fields: Sequence[exp.Expr],
                aggregates: Sequence[exp.Expr], inputs: Columns) -> list[exp.Expr]:
    """The GROUP BY of the pivot, or every column of its table it does not pivot or aggregate."""
    group = pivot.args.get("group")
    if group is not None:
        return [e.copy() for e in group.expressions]
    if not isinstance(source, exp.Table):
        raise ShorthandError("PIVOT of a subquery without GROUP BY")
    used = {c.name for e in (*fields, *aggregates) for c in e.find_all(exp.Column)}
    table = f"{source.db}.{source.name}".lower()
    return [exp.column(c) for c in inputs.get(table, ()) if c not in used]


def _pivot_columns(fields: Sequence[exp.Expr], aggregates: Sequence[exp.Expr]) -> list[exp.Expr]:
    choices = [_field_values(f) for f in fields]
    columns: list[exp.Expr] = []
    for combination in itertools.product(*choices):
        name = "_".join(value for value, _ in combination)
        condition = exp.and_(*[test for _, test in combination])
        for aggregate in aggregates:
            body = exp.Filter(this=aggregate.unalias().copy(),
                              expression=exp.Where(this=condition.copy()))
            columns.append(exp.alias_(body, name + _suffix(aggregate, aggregates), quoted=True))
    return columns


def _field_values(field: exp.Expr) -> list[tuple[str, exp.Expr]]:
    """(column name part, row test) for each value of `ON c IN (...)`."""
    if not isinstance(field, exp.In):
        raise ShorthandError("PIVOT without an IN list: its columns depend on the data")
    values: list[tuple[str, exp.Expr]] = []
    for value in field.expressions:
        literal = value.this if isinstance(value, exp.PivotAlias) else value
        name = value.alias if isinstance(value, exp.PivotAlias) else (
            literal.name if isinstance(literal, exp.Literal) else literal.sql("duckdb"))
        values.append((name, exp.EQ(this=field.this.copy(), expression=literal.copy())))
    return values


def _suffix(aggregate: exp.Expr, aggregates: Sequence[exp.Expr]) -> str:
    """DuckDB's: nothing for one unnamed aggregate, else `_alias` or `_sum(x)`."""
    if isinstance(aggregate, exp.Alias):
        return f"_{aggregate.alias}"
    return "" if len(aggregates) == 1 else f"_{aggregate.sql('duckdb').lower()}"
