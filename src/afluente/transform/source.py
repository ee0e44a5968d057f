"""Bring a source into DuckDB once, and check its keys before anything is written.

A source may be an Arrow table, an Arrow stream (read once) or a DuckDB relation. It is
copied into a temporary DuckDB table so the checks and the write can read it several times;
DuckDB spills that table to disk under memory pressure, so a large source stays bounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeAlias

import duckdb
import pyarrow as pa

from afluente.streams import relation_reader
from afluente.transform.errors import DuplicateKeyError, KindSpecError, NullKeyError
from afluente.transform.sqltext import col_list, ident

Source: TypeAlias = pa.Table | pa.RecordBatchReader | duckdb.DuckDBPyRelation
NullKeyPolicy = Literal["error", "quarantine"]
EXAMPLES = 3


def load_source(
    con: duckdb.DuckDBPyConnection, source: Source, name: str, shares_connection: bool
) -> list[str]:
    """Materialise `source` as temp table `name`; return its column names.

    A DuckDB relation must come from `con` when the caller passed its connection
    (`shares_connection`), and from any other connection otherwise.
    """
    if isinstance(source, duckdb.DuckDBPyRelation):
        if shares_connection:  # streaming it would run two queries on one connection
            source.create_view("__afluente_incoming")
            con.execute(f"CREATE OR REPLACE TEMP TABLE {ident(name)} AS FROM __afluente_incoming")
            con.execute("DROP VIEW __afluente_incoming")
            return columns_of(con, name)
        source = relation_reader(source)
    con.register("__afluente_incoming", source)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {ident(name)} AS FROM __afluente_incoming")
    finally:
        con.unregister("__afluente_incoming")
    return columns_of(con, name)


def columns_of(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {ident(name)}").fetchall()]


def require_columns(
    available: Sequence[str], wanted: Sequence[str], role: str, table: str | None
) -> None:
    """Fail with the missing names and the available ones when a spec names a bad column."""
    missing = [c for c in wanted if c not in available]
    if missing:
        raise KindSpecError(
            f"{role} column(s) {', '.join(missing)} not in the source "
            f"(columns: {', '.join(available)})",
            table=table,
            hint=f"fix the {role} list of the model, or select those columns in its query",
        )


def split_null_keys(
    con: duckdb.DuckDBPyConnection,
    name: str,
    keys: Sequence[str],
    policy: NullKeyPolicy,
    table: str | None,
) -> pa.Table | None:
    """Remove rows with a NULL key; raise (policy `error`) or return them (`quarantine`)."""
    null_test = " OR ".join(f"{ident(k)} IS NULL" for k in keys)
    count = _scalar(con, f"SELECT count(*) FROM {ident(name)} WHERE {null_test}")
    if not count:
        return None
    if policy == "error":
        raise NullKeyError(
            f"{count} source row(s) have a NULL in key column(s) {', '.join(keys)}",
            table=table,
            hint="filter them out in the model's query, or set on_null_key: quarantine",
        )
    quarantined = pa.Table.from_batches(
        relation_reader(con.sql(f"FROM {ident(name)} WHERE {null_test}"))
    )
    con.execute(f"DELETE FROM {ident(name)} WHERE {null_test}")
    return quarantined


def reject_null(
    con: duckdb.DuckDBPyConnection, name: str, column: str, role: str, table: str | None
) -> None:
    count = _scalar(con, f"SELECT count(*) FROM {ident(name)} WHERE {ident(column)} IS NULL")
    if count:
        raise NullKeyError(
            f"{count} source row(s) have a NULL {role} column {column}",
            table=table,
            hint=f"every change event needs a {role}; filter or fill them in the query",
        )


def reject_duplicates(
    con: duckdb.DuckDBPyConnection, name: str, keys: Sequence[str], table: str | None
) -> None:
    """Raise naming the key and a few duplicated values, when any key repeats."""
    keys_sql = col_list(keys)
    rows = con.execute(
        f"SELECT {keys_sql}, count(*) AS n FROM {ident(name)} GROUP BY {keys_sql} "
        f"HAVING count(*) > 1 ORDER BY n DESC, {keys_sql} LIMIT {EXAMPLES}"
    ).fetchall()
    if not rows:
        return
    total = _scalar(
        con,
        f"SELECT count(*) FROM (SELECT 1 FROM {ident(name)} GROUP BY {keys_sql} "
        "HAVING count(*) > 1)",
    )
    examples = "; ".join(_describe_key(keys, row[:-1]) + f" ({row[-1]} rows)" for row in rows)
    raise DuplicateKeyError(
        f"the source has {total} duplicated value(s) of unique key ({', '.join(keys)}), "
        f"e.g. {examples}",
        table=table,
        hint="fix the model's query, or set dedupe_by: <sequence column> so the latest wins",
    )


def _describe_key(keys: Sequence[str], values: Sequence[object]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in zip(keys, values, strict=True))


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0
