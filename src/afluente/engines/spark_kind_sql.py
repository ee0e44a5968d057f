"""The incremental kinds' SQL (DuckDB's dialect, `afluente.transform`) as Spark SQL.

sqlglot transpiles each statement (`SEMI`/`ANTI JOIN`, FROM-first, `struct_pack`, `IS
DISTINCT FROM` have Spark forms) after four rewrites on the parsed tree:

- a scratch table's name becomes the workspace's temporary view for it (the name stays its
  alias);
- `$name` parameters become literals (a naive datetime a `TIMESTAMP_NTZ`, as DuckDB's
  `TIMESTAMP`);
- a row's text for its hash, `CAST(struct_pack(...) AS VARCHAR)`, becomes the struct's JSON
  (`spark_sql.json_text`): Spark's cast of a struct to text writes a NULL field and the text
  `null` alike, JSON writes `null` and `"null"`;
- a top-level `QUALIFY` becomes a filter on a marker column, which the caller drops from
  the result (`KindQuery.marker`): sqlglot's own rewrite would keep its window column in a
  `SELECT *`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlglot
from sqlglot import exp

from afluente.engines.spark_sql import READ, generate, json_text
from afluente.errors import EngineError, Location

ORIGIN = Location("<incremental kind>")
MARKER = "__afluente_qualified"


@dataclass(frozen=True)
class KindQuery:
    """A statement as Spark SQL; `marker`: a column to drop from its result."""

    text: str
    marker: str | None = None


def kind_sql(sql: str, views: Mapping[str, str], parameters: Mapping[str, Any] | None,
             table: str = "incremental step") -> KindQuery:
    """`sql` (one DuckDB statement over the scratch tables named in `views`) for Spark."""
    try:
        tree = sqlglot.parse_one(sql, read=READ)
    except sqlglot.errors.ParseError as exc:
        raise EngineError(f"the incremental step's SQL does not parse: {exc}", table=table,
                          hint="check the model's delete_when / apply_as_deletes condition"
                          ) from None
    tree = tree.transform(lambda node: _rewrite(node, views, parameters or {}))
    tree, marker = _unqualify(tree)
    return KindQuery(generate(tree, sql, ORIGIN, table), marker)


def _rewrite(node: exp.Expr, views: Mapping[str, str], parameters: Mapping[str, Any]
             ) -> exp.Expr:
    if isinstance(node, exp.Table) and not node.db and node.name in views:
        alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name))
        return exp.Table(this=exp.to_identifier(views[node.name], quoted=True), alias=alias)
    if isinstance(node, exp.Placeholder) and node.name:
        if node.name not in parameters:
            raise EngineError(f"the incremental step's SQL has no value for `${node.name}`",
                              hint="this is a bug in afluente; please report it")
        return literal(parameters[node.name])
    if (isinstance(node, exp.Cast) and isinstance(node.this, exp.Struct)
            and node.to.is_type(*exp.DataType.TEXT_TYPES)):
        return json_text(node.this)
    return node


def literal(value: Any) -> exp.Expr:
    """A parameter's value as a Spark literal of the type DuckDB gives it."""
    if isinstance(value, datetime):
        kind = "TIMESTAMP" if value.tzinfo is not None else "TIMESTAMP_NTZ"
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")),
                        exp.DataType.build(kind, dialect="spark"))
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    if value is None:
        return exp.null()
    return exp.convert(value)


def _unqualify(tree: exp.Expr) -> tuple[exp.Expr, str | None]:
    """`SELECT ... QUALIFY cond` as `SELECT * FROM (SELECT ..., cond AS marker) WHERE
    marker`; the marker column is the caller's to drop."""
    if not isinstance(tree, exp.Select) or tree.args.get("qualify") is None:
        return tree, None
    inner = tree.copy()
    condition = inner.args["qualify"].this
    inner.set("qualify", None)
    inner = inner.select(exp.alias_(condition, MARKER), copy=False)
    outer = exp.select("*").from_(inner.subquery("__afluente_qualify"))
    return outer.where(exp.column(MARKER)), MARKER
