"""Whether a `full` SQL model can be maintained group by group, and the SQL that does it.

A model whose query is one `SELECT … FROM t JOIN u … WHERE … GROUP BY …` computes each
output row from the input rows of one group only. When some input rows change, only the
groups those rows belong to (before and after the change) can differ; recomputing just those
groups from the whole inputs, and keeping the stored rows of every other group, gives the
table a full rebuild would (`runtime/group_refresh.py` does it). Any aggregate qualifies,
`count(DISTINCT …)` and `avg` too: a touched group is recomputed from all its rows, never
folded from partial results.

:func:`group_shape` decides from the query text alone (sqlglot), and says why not otherwise:
no GROUP BY (one global row), a window function, a subquery or CTE, LIMIT/QUALIFY, a
non-deterministic function, a RIGHT/FULL/other join, a group key that is no output column,
or an outer join whose optional side reaches the group keys, WHERE or a later join. A pure
function: the runtime checks the inputs' kinds and what changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp

from afluente.model.nodes import Node
from afluente.model.refs import TableRef

DIALECT = "duckdb"
# functions whose value differs between two runs over the same rows
_VOLATILE = frozenset({"random", "rand", "uuid", "gen_random_uuid", "now", "current_timestamp",
                       "current_date", "current_time", "today", "get_current_timestamp",
                       "setseed", "nextval"})
_VOLATILE_NODES = (exp.Rand, exp.CurrentDate, exp.CurrentTimestamp, exp.CurrentTime)


@dataclass(frozen=True)
class GroupKey:
    name: str  # the output column
    sql: str  # the expression over the inputs (DuckDB dialect)
    aliases: tuple[str, ...]  # the table aliases it reads


@dataclass(frozen=True)
class GroupShape:
    """A query maintainable by group: its key columns and where its inputs appear."""

    query: exp.Select
    keys: tuple[GroupKey, ...]
    tables: tuple[tuple[str, TableRef], ...]  # (alias, input) of each FROM/JOIN position

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys)

    def touched_sql(self, changed: Mapping[int, str], grown: Mapping[int, str]) -> str:
        """The distinct group keys of the query's rows with the input at each position of
        `changed` replaced by its changed rows (one SELECT per position, UNION), every other
        position of `grown` by its old-and-new rows. A changed input on the optional side of
        a LEFT JOIN is joined INNER: an unmatched row of the other side is no change."""
        selects = []
        for position, changes in changed.items():
            query = self._substituted({**grown, position: changes}, inner=position)
            keys = [sqlglot.parse_one(k.sql, dialect=DIALECT).as_(k.name) for k in self.keys]
            query.set("expressions", keys)
            for clause in ("group", "having", "order", "distinct"):
                query.set(clause, None)
            selects.append(query.distinct().sql(dialect=DIALECT))
        return " UNION ".join(selects)

    def refresh_sql(self, touched: str, stored: str, types: Mapping[str, str],
                    ranges: Mapping[str, tuple[object, object]], nulls: Set[str]) -> str:
        """The table's new content: the stored rows of the untouched groups (cast to the
        output's `types`), then the touched groups recomputed from the whole inputs.
        `ranges`: the touched values' (min, max) of plain-column keys, `nulls`: the keys
        with a touched NULL; filters the engine can push into the scans of the inputs."""
        match = " AND ".join(f"t.{_q(k)} IS NOT DISTINCT FROM s.{_q(k)}" for k in self.key_names)
        kept = ", ".join(f"CAST(s.{_q(c)} AS {t}) AS {_q(c)}" for c, t in types.items())
        query = self.query.copy()
        query.set("order", None)
        on_touched = " AND ".join(f"t.{_q(k.name)} IS NOT DISTINCT FROM {k.sql}"
                                  for k in self.keys)
        conditions = [f"EXISTS (SELECT 1 FROM {touched} AS t WHERE {on_touched})"]
        for key in self.keys:  # implied by the EXISTS; the engine pushes them below joins
            null = f" OR {key.sql} IS NULL" if key.name in nulls else ""
            if len(key.aliases) == 1:
                conditions.append(f"{key.sql} IN (SELECT {_q(key.name)} FROM {touched}){null}")
            if key.name in ranges:
                low, high = ranges[key.name]
                conditions.append(f"{key.sql} BETWEEN {_lit(low)} AND {_lit(high)}{null}")
        for condition in conditions:
            query.where(condition, append=True, dialect=DIALECT, copy=False)
        return (f"SELECT {kept} FROM {stored} AS s WHERE NOT EXISTS "
                f"(SELECT 1 FROM {touched} AS t WHERE {match}) "
                f"UNION ALL {query.sql(dialect=DIALECT)}")

    def columns_of(self, alias: str) -> tuple[str, ...] | None:
        """The columns the query reads of the input named `alias` (a change to any other
        column changes no output row); None when unqualified columns leave it open."""
        columns = list(self.query.find_all(exp.Column))
        if any(j.args.get("using") for j in self.query.args.get("joins") or []):
            return None  # a USING column belongs to tables the query does not name
        if len(self.tables) > 1 and any(not c.table and not c.find_ancestor(exp.Group)
                                        for c in columns):
            return None
        named = {c.name for c in columns if c.table == alias or
                 (not c.table and len(self.tables) == 1 and not c.find_ancestor(exp.Group))}
        return tuple(sorted(named))

    def plain_column(self, name: str) -> bool:
        """Whether key `name` is an input column as it is (a range filter reaches a scan)."""
        key = next(k for k in self.keys if k.name == name)
        return isinstance(sqlglot.parse_one(key.sql, dialect=DIALECT), exp.Column)

    def key_columns(self, ref: TableRef) -> dict[str, str]:
        """The keys that are a column of input `ref` as it is: key name -> column name."""
        aliases = {alias for alias, table in self.tables if table == ref}
        found = {}
        for key in self.keys:
            parsed = sqlglot.parse_one(key.sql, dialect=DIALECT)
            if isinstance(parsed, exp.Column) and set(key.aliases) <= aliases and key.aliases:
                found[key.name] = parsed.name
        return found

    def _substituted(self, tables: Mapping[int, str], inner: int) -> exp.Select:
        query = self.query.copy()
        positions = [query.args["from_"].this, *(j.this for j in query.args.get("joins") or [])]
        for position, name in tables.items():
            table = positions[position]
            alias = self.tables[position][0]
            replacement = exp.to_table(name, dialect=DIALECT).as_(alias)
            table.replace(replacement)
            if position == inner and position > 0:
                join = query.args["joins"][position - 1]
                join.set("side", None)
                join.set("kind", None)
        return query


@dataclass(frozen=True)
class NotByGroup:
    """Why a query must be rebuilt whole."""

    reason: str


@lru_cache(maxsize=1024)
def group_shape(sql: str) -> GroupShape | NotByGroup:
    """The group shape of a model's query, or why it has none (parsed once per text: `plan`
    and the build ask for the same model; the shape's methods never change its query)."""
    try:
        query = sqlglot.parse_one(sql, dialect=DIALECT)
    except sqlglot.errors.ParseError:
        return NotByGroup("its SQL is not parsed by sqlglot")
    if not isinstance(query, exp.Select):
        return NotByGroup("it is not a single SELECT (a UNION or another statement)")
    refused = _refused_construct(query)
    if refused:
        return NotByGroup(refused)
    tables = _tables(query)
    if isinstance(tables, NotByGroup):
        return tables
    optional = _optional_aliases(query, tables)
    if isinstance(optional, NotByGroup):
        return optional
    if optional and any(not c.table and not c.find_ancestor(exp.Group)
                        for c in query.find_all(exp.Column)):
        return NotByGroup("a query with a LEFT JOIN must qualify its columns (`alias.column`)")
    keys = _keys(query, optional, tables[0][0] if len(tables) == 1 else None)
    if isinstance(keys, NotByGroup):
        return keys
    return GroupShape(query, keys, tables)


def _refused_construct(query: exp.Select) -> str | None:
    if query.args.get("with_") or query.args.get("with"):
        return "it has a WITH clause"
    for clause, name in (("limit", "LIMIT"), ("offset", "OFFSET"), ("qualify", "QUALIFY")):
        if query.args.get(clause) is not None:
            return f"it has {name}"
    window = query.find(exp.Window)
    if window is not None:
        return f"it has a window function (`{window.sql(dialect=DIALECT)}`)"
    group = query.args.get("group")
    if group is None:
        return "it has no GROUP BY (one row from every input row)"
    if any(s is not query for s in query.find_all(exp.Select)):
        return "it has a subquery"
    if list(query.find_all(exp.Star)) and not all(
        isinstance(s.parent, exp.Count) for s in query.find_all(exp.Star)
    ):
        return "it selects `*`"
    for node in query.find_all(exp.Func):
        name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
        if isinstance(node, _VOLATILE_NODES) or name in _VOLATILE:
            return f"`{name}()` differs between runs"
    if group.args.get("rollup") or group.args.get("cube") or group.args.get(
            "grouping_sets"):
        return "it has ROLLUP, CUBE or GROUPING SETS"
    return None


def _tables(query: exp.Select) -> tuple[tuple[str, TableRef], ...] | NotByGroup:
    found = []
    sources = [query.args["from_"].this, *(j.this for j in query.args.get("joins") or [])]
    for join in query.args.get("joins") or []:
        side, kind = (join.args.get("side") or "").upper(), (join.args.get("kind") or "").upper()
        if side not in ("", "LEFT") or kind not in ("", "INNER", "OUTER", "CROSS") or \
                join.args.get("method"):
            return NotByGroup(f"it has a {' '.join(p for p in (side, kind) if p)} join")
    for source in sources:
        if not isinstance(source, exp.Table) or not source.db or source.catalog:
            return NotByGroup(f"it reads `{source.sql(dialect=DIALECT)}`, not a "
                              "`layer.table` of the project")
        found.append((source.alias_or_name, TableRef(source.db, source.name)))
    aliases = [a for a, _ in found]
    if len(set(aliases)) != len(aliases):
        return NotByGroup("two inputs share a name (give each an alias)")
    return tuple(found)


def _optional_aliases(query: exp.Select, tables: tuple[tuple[str, TableRef], ...]
                      ) -> frozenset[str] | NotByGroup:
    """The aliases on the optional side of LEFT JOINs; refused when a later join, WHERE or
    a group key reads them (their NULL rows would then decide which groups a change
    touches)."""
    optional: set[str] = set()
    for position, join in enumerate(query.args.get("joins") or [], start=1):
        if optional & _aliases(join.args.get("on")):
            return NotByGroup("a join reads the optional side of an earlier LEFT JOIN")
        if (join.args.get("side") or "").upper() == "LEFT":
            if join.args.get("using"):
                return NotByGroup("it has a LEFT JOIN … USING (write it with ON)")
            optional.add(tables[position][0])
    if optional & _aliases(query.args.get("where")):
        return NotByGroup("WHERE reads the optional side of a LEFT JOIN")
    return frozenset(optional)


def _keys(query: exp.Select, optional: frozenset[str], only: str | None
          ) -> tuple[GroupKey, ...] | NotByGroup:
    items = list(query.expressions)
    group = query.args["group"]
    if group.args.get("all"):
        chosen = [i for i in items if not i.find(exp.AggFunc)]
    else:
        chosen = []
        for expression in group.expressions:
            item = _item_of(expression, items)
            if item is None:
                return NotByGroup(f"its group key `{expression.sql(dialect=DIALECT)}` is "
                                  "not an output column")
            chosen.append(item)
    keys = []
    for item in chosen:
        expression = item.this if isinstance(item, exp.Alias) else item
        name = item.alias_or_name
        if not isinstance(item, exp.Alias | exp.Column) or not name:
            return NotByGroup(f"its group key `{item.sql(dialect=DIALECT)}` has no name "
                              "(add AS name)")
        reads = _aliases(expression)
        if only is not None and any(not c.table for c in expression.find_all(exp.Column)):
            reads.add(only)
        if reads & optional:
            return NotByGroup(f"its group key `{name}` comes from the optional side of a "
                              "LEFT JOIN")
        keys.append(GroupKey(name, expression.sql(dialect=DIALECT), tuple(sorted(reads))))
    if not keys:
        return NotByGroup("it has no group key column")
    return tuple(keys)


def _item_of(expression: exp.Expression, items: list[exp.Expression]) -> exp.Expression | None:
    if isinstance(expression, exp.Literal) and not expression.is_string:
        index = int(expression.name) - 1
        return items[index] if 0 <= index < len(items) else None
    for item in items:
        bare = item.this if isinstance(item, exp.Alias) else item
        if bare == expression:
            return item
    if isinstance(expression, exp.Column) and not expression.table:
        return next((i for i in items if i.alias_or_name == expression.name), None)
    return None


def _aliases(node: exp.Expression | None) -> set[str]:
    if node is None:
        return set()
    return {c.table for c in node.find_all(exp.Column) if c.table}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: object) -> str:
    return exp.convert(value).sql(dialect=DIALECT)


def by_group(node: Node) -> GroupShape | NotByGroup:
    """Whether `node` (a `full` model) can be refreshed by group, from its definition."""
    if node.kind != "full" or node.language != "sql" or node.sql is None:
        return NotByGroup(f"it is a {node.language} model" if node.language != "sql"
                          else f"kind `{node.kind}`")
    if node.config.expectations:
        return NotByGroup("its expectations check every written row")
    if any(doc.mask for doc in node.config.columns.values()):
        return NotByGroup("it masks columns on write")
    return group_shape(node.sql)


def plan_reason(node: Node) -> str:
    """What `plan` says of a `full` model that runs because an input changed."""
    shape = by_group(node)
    if isinstance(shape, NotByGroup):
        return f"kind `full` recomputes the whole table ({shape.reason})"
    return (f"recomputes only the groups its inputs' changed rows touch (GROUP BY "
            f"{', '.join(shape.key_names)}; decided when read)")
