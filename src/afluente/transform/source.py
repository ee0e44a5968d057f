"""Bring a source into the engine's workspace once, and check its keys before anything is
written.

A source may be an Arrow table, an Arrow stream (read once) or a relation of the workspace's
engine (a DuckDB relation). It is copied into a scratch table so the checks and the write can
read it several times; the engine spills that table to disk under memory pressure, so a large
source stays bounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeAlias

import pyarrow as pa

from afluente.engines.duckdb_workspace import DuckDBWorkspace
from afluente.engines.protocol import Workspace
from afluente.transform.errors import DuplicateKeyError, KindSpecError, NullKeyError
from afluente.transform.sqltext import col_list, ident

# an Arrow table or stream, or a relation of the workspace's engine (e.g. a DuckDB relation)
Source: TypeAlias = pa.Table | pa.RecordBatchReader | object
NullKeyPolicy = Literal["error", "quarantine"]
EXAMPLES = 3


def default_workspace() -> Workspace:
    """The workspace a kind uses when its caller passes none: DuckDB on its own database."""
    return DuckDBWorkspace.fresh()


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
    ws: Workspace,
    name: str,
    keys: Sequence[str],
    policy: NullKeyPolicy,
    table: str | None,
) -> pa.Table | None:
    """Remove rows with a NULL key; raise (policy `error`) or return them (`quarantine`)."""
    null_test = " OR ".join(f"{ident(k)} IS NULL" for k in keys)
    count = _scalar(ws, f"SELECT count(*) FROM {ident(name)} WHERE {null_test}")
    if not count:
        return None
    if policy == "error":
        raise NullKeyError(
            f"{count} source row(s) have a NULL in key column(s) {', '.join(keys)}",
            table=table,
            hint="filter them out in the model's query, or set on_null_key: quarantine",
        )
    quarantined = ws.stream(f"FROM {ident(name)} WHERE {null_test}").read_all()
    ws.create(name, f"FROM {ident(name)} WHERE NOT ({null_test})")
    return quarantined


def reject_null(
    ws: Workspace, name: str, column: str, role: str, table: str | None
) -> None:
    count = _scalar(ws, f"SELECT count(*) FROM {ident(name)} WHERE {ident(column)} IS NULL")
    if count:
        raise NullKeyError(
            f"{count} source row(s) have a NULL {role} column {column}",
            table=table,
            hint=f"every change event needs a {role}; filter or fill them in the query",
        )


def reject_duplicates(
    ws: Workspace, name: str, keys: Sequence[str], table: str | None
) -> None:
    """Raise naming the key and a few duplicated values, when any key repeats."""
    keys_sql = col_list(keys)
    rows = ws.rows(
        f"SELECT {keys_sql}, count(*) AS n FROM {ident(name)} GROUP BY {keys_sql} "
        f"HAVING count(*) > 1 ORDER BY n DESC, {keys_sql} LIMIT {EXAMPLES}"
    )
    if not rows:
        return
    total = _scalar(
        ws,
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


def _scalar(ws: Workspace, sql: str) -> int:
    value = ws.scalar(sql)
    return int(value) if value is not None else 0
