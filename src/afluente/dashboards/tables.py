"""The tables a panel's query reads, from its SQL (sqlglot, DuckDB dialect)."""

from __future__ import annotations

from afluente.dashboards.spec import PLACEHOLDER


def tables_in(sql: str) -> list[str]:
    """`layer.table` of every table `sql` reads (CTE names left out); a query that does not
    parse names none here (the engine reports it when the panel runs)."""
    if not sql.strip():
        return []
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        statement = sqlglot.parse_one(PLACEHOLDER.sub("NULL", sql), dialect="duckdb")
    except SqlglotError:
        return []
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    found: list[str] = []
    for table in statement.find_all(exp.Table):
        name = f"{table.db}.{table.name}" if table.db else table.name
        if not table.db and name.lower() in ctes:
            continue
        if name and name not in found:
            found.append(name)
    return found
