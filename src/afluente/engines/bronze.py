"""Shape a source's rows for bronze: stamp metadata, apply type hints and the schema policy.

Every bronze row gets `_rescued_data`, `_source`, `_ingested_at`, `_run_id` and `_row_hash`
(md5 of the row's raw values). A column is cast to its type in the bronze table (or its hint,
on the first load); a value that does not cast is kept as text in `_rescued_data` (a JSON
object `{column: raw value}`) and the column is left null, so nothing is lost. A new column
is added (`add_columns`), kept in `_rescued_data` (`rescue`) or refused (`fail`).
Runs in DuckDB, streaming: batches go through without the whole source in memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from afluente.errors import ConnectorError, Location
from afluente.streams import ResultStream, guarded, relation_reader

RESCUED = "_rescued_data"
SOURCE = "_source"
METADATA_COLUMNS = (RESCUED, SOURCE, "_ingested_at", "_run_id", "_row_hash")
BATCH_ROWS = 256_000


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class BronzeRules:
    """What one ingestion must respect."""

    source: str
    location: Location
    run_id: str
    ingested_at: datetime
    hints: Mapping[str, str]
    policy: str  # add_columns | rescue | fail
    existing: pa.Schema | None  # the bronze table's schema, None when (re)created
    decimal_comma: bool = False


@dataclass(frozen=True)
class ColumnPlan:
    """How one incoming column lands in bronze."""

    name: str
    expression: str  # the value written (None when the column is not written)
    rescued: str | None  # a VARCHAR expression: the raw value when it did not land, else NULL
    written: bool = True


def prepare_bronze(stream: ResultStream, rules: BronzeRules) -> ResultStream:
    """The stream with bronze metadata, casts and rescue applied (lazily, batch by batch)."""
    connection = duckdb.connect(":memory:")
    connection.execute("SET TimeZone = 'UTC'")
    incoming = stream.reader
    try:
        connection.register("_incoming", incoming)
        types = _duckdb_types(connection, "_incoming")
        existing = _existing_types(connection, rules.existing)
        plans = plan_columns(types, existing, rules)
        sql = bronze_sql(plans, types, rules)
        reader = relation_reader(connection.sql(sql), BATCH_ROWS)
    except duckdb.Error as exc:
        connection.close()
        raise _error(rules, exc) from None
    except BaseException:
        connection.close()
        raise

    def translate(exc: Exception) -> BaseException:
        if stream.failure:
            return stream.failure[0]
        return _error(rules, exc)

    prepared = guarded(reader, translate, keepalive=(connection, stream), on_close=connection.close)
    prepared.failure = stream.failure  # one list: the producer's error is the one reported
    return prepared


def _duckdb_types(connection: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    rows = connection.sql(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    return {str(row[0]): str(row[1]) for row in rows}


def _existing_types(
    connection: duckdb.DuckDBPyConnection, schema: pa.Schema | None
) -> dict[str, str] | None:
    if schema is None:
        return None
    connection.register("_existing", schema.empty_table())
    return _duckdb_types(connection, "_existing")


def plan_columns(
    incoming: Mapping[str, str], existing: Mapping[str, str] | None, rules: BronzeRules
) -> list[ColumnPlan]:
    """Decide, column by column, what is written and what is rescued."""
    plans: list[ColumnPlan] = []
    new: list[str] = []
    for name, actual in incoming.items():
        if name in METADATA_COLUMNS:
            continue
        quoted = _quote(name)
        if existing is None:
            target = rules.hints.get(name)
        elif name in existing:
            target = existing[name]
        else:
            target = rules.hints.get(name)
            if rules.policy == "rescue":
                raw = f"CAST({quoted} AS VARCHAR)"
                plans.append(ColumnPlan(name, "NULL", raw, written=False))
                continue
            new.append(name)
        if target is None or target.upper() == actual.upper():
            plans.append(ColumnPlan(name, quoted, None))
            continue
        source = quoted
        if rules.decimal_comma and actual.upper() == "VARCHAR" and _is_numeric(target):
            source = f"replace(replace({quoted}, '.', ''), ',', '.')"
        cast = f"TRY_CAST({source} AS {target})"
        rescued = (
            f"CASE WHEN {quoted} IS NOT NULL AND {cast} IS NULL "
            f"THEN CAST({quoted} AS VARCHAR) END"
        )
        plans.append(ColumnPlan(name, cast, rescued))
    if new and rules.policy == "fail":
        listed = ", ".join(f"`{n}` ({incoming[n]})" for n in new)
        raise ConnectorError(
            f"source `{rules.source}`: new column{'s' if len(new) > 1 else ''} {listed} "
            "not in the bronze table, and `schema_evolution` is `fail`",
            location=rules.location,
            hint="set `schema_evolution: add_columns` to add them or `rescue` to keep their "
            "values in `_rescued_data`; nothing was written",
        )
    return plans


def _is_numeric(type_name: str) -> bool:
    upper = type_name.upper()
    return upper.startswith(("DECIMAL", "NUMERIC", "DOUBLE", "FLOAT", "REAL"))


def bronze_sql(plans: list[ColumnPlan], incoming: Mapping[str, str], rules: BronzeRules) -> str:
    written = [p for p in plans if p.written]
    columns = [f"{p.expression} AS {_quote(p.name)}" for p in written]
    entries = [
        f"struct_pack(k := {_literal(p.name)}, v := {p.rescued})"
        for p in plans
        if p.rescued is not None
    ]
    rescued = "NULL::VARCHAR"
    if entries:
        rescued = (
            "nullif(to_json(map_from_entries(list_filter(["
            + ", ".join(entries)
            + "], lambda e: e.v IS NOT NULL)))::VARCHAR, '{}')"
        )
    if RESCUED in incoming:
        given = f"CAST({_quote(RESCUED)} AS VARCHAR)"
        rescued = (
            f"CASE WHEN {given} IS NULL THEN {rescued} "
            f"WHEN {rescued} IS NULL THEN {given} "
            f"ELSE json_merge_patch({given}, {rescued})::VARCHAR END"
        )
    raw = [p.name for p in plans]
    values = ", ".join(f"coalesce(CAST({_quote(c)} AS VARCHAR), '\\N')" for c in raw) or "''"
    source = _quote(SOURCE) if SOURCE in incoming else _literal(rules.source)
    metadata = [
        f"{rescued} AS {RESCUED}",
        f"CAST({source} AS VARCHAR) AS {SOURCE}",
        f"{_literal(rules.ingested_at.isoformat())}::TIMESTAMPTZ AS _ingested_at",
        f"{_literal(rules.run_id)} AS _run_id",
        f"md5(concat_ws(chr(31), {values})) AS _row_hash",
    ]
    return "SELECT " + ", ".join([*columns, *metadata]) + " FROM _incoming"


def _error(rules: BronzeRules, exc: Exception) -> ConnectorError:
    if isinstance(exc, ConnectorError):
        return exc
    detail = " ".join(line.strip() for line in str(exc).strip().splitlines()[:3])
    return ConnectorError(
        f"source `{rules.source}`: cannot shape rows for bronze: {detail}",
        location=rules.location,
        hint="check the source's `columns` type hints; nothing was written",
    )
