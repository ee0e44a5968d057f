"""The SQL of publishing one table, run inside the caller's transaction.

`replace` builds the new table beside the old one and swaps them at the end (DROP + RENAME
in the same transaction): readers see the old table until the commit, then the new one —
never a half-loaded or missing table. `upsert` merges the rows into a table with a primary
key on `keys`. Either way nothing is visible before the commit, and a failure anywhere rolls
everything back.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
import pyarrow as pa
from psycopg import sql

from afluente.sinks.errors import SinkError
from afluente.sinks.pg_types import csv_bytes, pg_columns
from afluente.sinks.protocol import SinkTable

Cursor = psycopg.Cursor[Any]

_DUPLICATES_SHOWN = 5


def _ident(*parts: str) -> sql.Identifier:
    return sql.Identifier(*parts)


def _column_list(names: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(_ident(n) for n in names)


def _column_defs(columns: list[tuple[str, str]]) -> sql.Composed:
    return sql.SQL(", ").join(sql.SQL("{} {}").format(_ident(n), sql.SQL(t)) for n, t in columns)


def copy_batches(cur: Cursor, table: sql.Composable, names: Sequence[str],
                 batches: Iterator[pa.RecordBatch]) -> int:
    """Stream `batches` into `table` with COPY (CSV); returns the rows copied."""
    rows = 0
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(table, _column_list(names))
    with cur.copy(statement) as copy:
        for batch in batches:
            if batch.num_rows:
                copy.write(csv_bytes(batch))
                rows += batch.num_rows
    return rows


def check_keys(table: SinkTable, schema: pa.Schema) -> None:
    missing = [k for k in table.options.keys if k not in schema.names]
    if missing:
        raise SinkError(
            f"keys {', '.join(missing)} of `{table.ref}` are not columns of the table",
            location=table.location, table=str(table.ref),
            hint=f"its columns: {', '.join(schema.names)}",
        )


def check_duplicates(cur: Cursor, staged: sql.Composable, table: SinkTable) -> None:
    """Fail, naming the key values, when the staged rows repeat a key."""
    keys = table.options.keys
    cur.execute(sql.SQL("SELECT {k}, count(*) FROM {t} GROUP BY {k} HAVING count(*) > 1 "
                        "ORDER BY count(*) DESC, {k} LIMIT {n}").format(
        k=_column_list(keys), t=staged, n=sql.Literal(_DUPLICATES_SHOWN)))
    found = cur.fetchall()
    if not found:
        return
    shown = "; ".join(", ".join(f"{k}={v!r}" for k, v in zip(keys, row[:-1], strict=True))
                      + f" ({row[-1]} rows)" for row in found)
    raise SinkError(
        f"`{table.ref}` has duplicate keys ({', '.join(keys)}): {shown}",
        location=table.location, table=str(table.ref),
        hint="make the keys unique in the gold model, or choose other `keys`",
    )


def create_indexes(cur: Cursor, schema: str, table: str, target: str, spec: SinkTable,
                   if_missing: bool = False) -> None:
    for columns in spec.options.index_columns():
        name = _index_name(target, columns)
        cur.execute(sql.SQL("CREATE INDEX {exists}{name} ON {table} ({cols})").format(
            exists=sql.SQL("IF NOT EXISTS " if if_missing else ""), name=_ident(name),
            table=_ident(schema, table), cols=_column_list(columns)))


def _index_name(target: str, columns: Sequence[str]) -> str:
    return f"{target}_{'_'.join(columns)}_idx"[:63]


# -- replace ---------------------------------------------------------------------------------


def replace(cur: Cursor, schema: str, spec: SinkTable, data_schema: pa.Schema,
            batches: Iterator[pa.RecordBatch], lock_timeout_s: float) -> int:
    """Load a new table beside the old one, then swap them; returns the rows loaded."""
    target = spec.target
    stage = f"_afluente_stage_{secrets.token_hex(4)}"
    columns = pg_columns(data_schema)
    cur.execute(sql.SQL("CREATE TABLE {} ({})").format(_ident(schema, stage),
                                                        _column_defs(columns)))
    rows = copy_batches(cur, _ident(schema, stage), [c for c, _ in columns], batches)
    if spec.options.keys:
        check_keys(spec, data_schema)
        check_duplicates(cur, _ident(schema, stage), spec)
        cur.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({})").format(
            _ident(schema, stage), _ident(f"{stage}_pkey"), _column_list(spec.options.keys)))
    cur.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(
        sql.Literal(f"{int(lock_timeout_s * 1000)}ms")))
    grants = _grants(cur, schema, target)
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_ident(schema, target)))
    cur.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(_ident(schema, stage),
                                                             _ident(target)))
    if spec.options.keys:
        cur.execute(sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
            _ident(schema, target), _ident(f"{stage}_pkey"), _ident(f"{target}_pkey")))
    create_indexes(cur, schema, target, target, spec)
    for privilege, grantee in grants:
        cur.execute(sql.SQL("GRANT {} ON {} TO {}").format(
            sql.SQL(privilege), _ident(schema, target),
            sql.SQL("PUBLIC") if grantee is None else _ident(grantee)))
    return rows


def _grants(cur: Cursor, schema: str, table: str) -> list[tuple[str, str | None]]:
    """The privileges others hold on the existing table, to give them on its replacement."""
    cur.execute(
        "SELECT a.privilege_type, CASE WHEN a.grantee = 0 THEN NULL "
        "ELSE pg_get_userbyid(a.grantee) END "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, "
        "aclexplode(c.relacl) a WHERE n.nspname = %s AND c.relname = %s "
        "AND a.grantee <> c.relowner",
        [schema, table],
    )
    return [(str(p), None if g is None else str(g)) for p, g in cur.fetchall()]


# -- upsert ----------------------------------------------------------------------------------


def upsert(cur: Cursor, schema: str, spec: SinkTable, data_schema: pa.Schema,
           batches: Iterator[pa.RecordBatch]) -> int:
    """Merge the rows into the target by `keys`; returns the rows copied."""
    check_keys(spec, data_schema)
    columns = pg_columns(data_schema)
    names = [c for c, _ in columns]
    target = _ident(schema, spec.target)
    _prepare_target(cur, schema, spec, columns)
    stage = _ident(f"_afluente_upsert_{secrets.token_hex(4)}")
    cur.execute(sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(
        stage, _column_defs(columns)))
    rows = copy_batches(cur, stage, names, batches)
    check_duplicates(cur, stage, spec)
    keys = spec.options.keys
    others = [n for n in names if n not in keys]
    action = sql.SQL("DO NOTHING") if not others else sql.SQL("DO UPDATE SET {}").format(
        sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(_ident(n)) for n in others))
    cur.execute(sql.SQL("INSERT INTO {t} ({c}) SELECT {c} FROM {s} ON CONFLICT ({k}) {a}").format(
        t=target, c=_column_list(names), s=stage, k=_column_list(keys), a=action))
    return rows


def _prepare_target(cur: Cursor, schema: str, spec: SinkTable,
                    columns: list[tuple[str, str]]) -> None:
    """Create the target with its primary key, or add the gold table's new columns to it."""
    target = _ident(schema, spec.target)
    existing = existing_columns(cur, schema, spec.target)
    if existing is None:
        cur.execute(sql.SQL("CREATE TABLE {} ({}, PRIMARY KEY ({}))").format(
            target, _column_defs(columns), _column_list(spec.options.keys)))
    else:
        _evolve(cur, spec, target, existing, columns)
    create_indexes(cur, schema, spec.target, spec.target, spec, if_missing=True)


def _evolve(cur: Cursor, spec: SinkTable, target: sql.Composable, existing: dict[str, str],
            columns: list[tuple[str, str]]) -> None:
    for name, pg in columns:
        if name not in existing:
            cur.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                target, _ident(name), sql.SQL(pg)))
        elif existing[name] != pg:
            raise SinkError(
                f"column `{name}` of `{spec.ref}` is {pg} but the published table has "
                f"{existing[name]}",
                location=spec.location, table=str(spec.ref),
                hint="publish it once with `mode: replace`, or drop the table in PostgreSQL "
                     "so afluente recreates it",
            )


def existing_columns(cur: Cursor, schema: str, table: str) -> dict[str, str] | None:
    """Column → type (as format_type prints it) of an existing table, None if there is none."""
    cur.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p') "
        "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        [schema, table],
    )
    found = cur.fetchall()
    if found:
        return {str(n): str(t) for n, t in found}
    cur.execute("SELECT to_regclass(%s)", [sql.Identifier(schema, table).as_string(cur)])
    row = cur.fetchone()
    return {} if row is not None and row[0] is not None else None
