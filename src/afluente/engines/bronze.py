"""Shape a source's rows for bronze: stamp metadata, apply type hints and the schema policy.

Every bronze row gets `_rescued_data`, `_source`, `_ingested_at`, `_run_id` and `_row_hash`
(md5 of the row's raw values). A column is cast to its type in the bronze table (or its hint,
on the first load); a value that does not cast is kept as text in `_rescued_data` (a JSON
object `{column: raw value}`) and the column is left null, so nothing is lost. A new column
is added (`add_columns`), kept in `_rescued_data` (`rescue`) or refused (`fail`).
Runs in DuckDB, streaming: batches go through without the whole source in memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from afluente.engines.duckdb_connection import duckdb_connect, relation_reader
from afluente.engines.duckdb_engine import delta_ready_type
from afluente.errors import ConnectorError, Location
from afluente.sql_text import ident as _quote
from afluente.sql_text import string as _literal
from afluente.streams import ResultStream, SourceQuery, guarded

RESCUED = "_rescued_data"
SOURCE = "_source"
METADATA_TYPES = {RESCUED: "VARCHAR", SOURCE: "VARCHAR", "_ingested_at": "TIMESTAMPTZ",
                  "_run_id": "VARCHAR", "_row_hash": "VARCHAR"}  # as bronze stores them
METADATA_COLUMNS = tuple(METADATA_TYPES)
BATCH_ROWS = 256_000


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


class BronzeShaper:
    """Shapes one source for bronze: an Arrow stream (read on a connection of its own) or
    DuckDB SQL (shaped on the connector's connection, keeping DuckDB's parallelism)."""

    def __init__(self, source: ResultStream | SourceQuery, rules: BronzeRules) -> None:
        self.rules = rules
        self.stream = source if isinstance(source, ResultStream) else None
        self.query = source if isinstance(source, SourceQuery) else None
        if self.query is not None:
            self.connection = self.query.connection
        else:
            self.connection = duckdb_connect(":memory:")
            self.connection.execute("SET TimeZone = 'UTC'")
        try:
            self._define_incoming()
            types = _duckdb_types(self.connection, "_incoming")
        except duckdb.Error as exc:
            self.close()
            raise self._failure(exc) from None
        try:
            existing = _existing_types(self.connection, rules.existing)
            self.sql = bronze_sql(plan_columns(types, existing, rules), types, rules)
            shaped = self.connection.sql(self.sql)
            self.types = [str(t) for t in shaped.types]
            self.columns = list(shaped.columns)
        except duckdb.Error as exc:
            self.close()
            raise _error(rules, exc) from None
        except BaseException:
            self.close()
            raise

    def _define_incoming(self, sql: str | None = None) -> None:
        if self.query is not None:
            view = sql or self.query.sql
            self.connection.execute(f"CREATE OR REPLACE TEMP VIEW _incoming AS {view}")
        else:
            assert self.stream is not None
            self.connection.register("_incoming", self.stream.reader)

    def close(self) -> None:
        if self.query is not None:
            self.query.close()
        else:
            self.connection.close()

    def _failure(self, exc: Exception) -> BaseException:
        if self.stream is not None and self.stream.failure:
            return self.stream.failure[0]
        if self.query is not None:
            return self.query.translate(exc)
        return _error(self.rules, exc)

    def _followups(self) -> list[str]:
        """The SQL of rows known once the main query ran, as views for the same shaping."""
        return [then() for then in self.query.then] if self.query is not None else []

    def stream_out(self) -> ResultStream:
        """The shaped rows as a stream (lazily, batch by batch)."""
        try:
            reader = relation_reader(self.connection.sql(self.sql), BATCH_ROWS)
        except duckdb.Error as exc:
            self.close()
            raise self._failure(exc) from None

        def batches() -> Iterator[pa.RecordBatch]:
            yield from reader
            for followup in self._followups():
                self._define_incoming(followup)
                for batch in relation_reader(self.connection.sql(self.sql), BATCH_ROWS):
                    yield batch.cast(reader.schema)

        chained = pa.RecordBatchReader.from_batches(reader.schema, batches())
        prepared = guarded(
            chained, self._failure, keepalive=(self.connection, self.stream), on_close=self.close
        )
        if self.stream is not None:
            prepared.failure = self.stream.failure  # one list: the producer's error
        return prepared

    def write_parquet(self, directory: Path) -> tuple[list[Path], int]:
        """Write the shaped rows as Parquet files into `directory` (DuckDB's parallel
        writer); returns the files and the row count."""
        rows = 0
        try:
            rows += self._copy(directory)
            for followup in self._followups():
                self._define_incoming(followup)
                rows += self._copy(directory)
        except duckdb.Error as exc:
            raise self._failure(exc) from None
        finally:
            self.close()
        files = sorted(directory.glob("*.parquet"))
        empty = [f for f in files if pq.read_metadata(f).num_rows == 0]
        for file in empty[: len(empty) - (len(empty) == len(files))]:  # keep one for the schema
            file.unlink()
        return sorted(directory.glob("*.parquet")), rows

    def _copy(self, directory: Path) -> int:
        copied = self.connection.execute(
            f"COPY ({self.sql}) TO {_literal(str(directory))} "
            "(FORMAT parquet, PER_THREAD_OUTPUT true, FILENAME_PATTERN 'part-{uuid}', "
            "OVERWRITE_OR_IGNORE true)"
        ).fetchone()
        return int(copied[0]) if copied else 0


def prepare_bronze(stream: ResultStream, rules: BronzeRules) -> ResultStream:
    """The stream with bronze metadata, casts and rescue applied (lazily, batch by batch)."""
    return BronzeShaper(stream, rules).stream_out()


def delta_ready(types: list[str]) -> bool:
    """Whether DuckDB's Parquet of these types can be committed to Delta as is."""
    return all(delta_ready_type(t) for t in types)


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
        cast = exact_cast(source, actual, target)
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


def exact_cast(source: str, actual: str, target: str) -> str:
    """`source` (of type `actual`) as `target`, NULL when it does not fit exactly: DuckDB
    rounds a fraction cast to an integer or past a DECIMAL's scale, and such a value must be
    rescued rather than land changed."""
    cast = f"TRY_CAST({source} AS {target})"
    if not _ROUNDING.fullmatch(target):
        return cast
    if actual.upper() == "VARCHAR":  # compare as numbers: "7.0" fits INTEGER 7 exactly
        same = (
            f"coalesce(TRY_CAST({source} AS DECIMAL(38, 18)) = {cast}, "
            f"TRY_CAST({source} AS DOUBLE) = {cast})"
        )
    else:
        same = f"TRY_CAST({cast} AS {actual}) = {source}"
    return f"CASE WHEN {same} THEN {cast} END"


_ROUNDING = re.compile(  # integer and fixed-point types, not lists or structs of them
    r"\s*(DECIMAL|NUMERIC|U?(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT)|INT[1248]|LONG"
    r"|SHORT|SIGNED)\s*(\(\s*\d+\s*(,\s*\d+\s*)?\))?\s*",
    re.IGNORECASE,
)


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
