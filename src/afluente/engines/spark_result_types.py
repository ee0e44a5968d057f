"""A SQL model's result on Spark typed as DuckDB types it, so its Delta schema does not
depend on the engine that wrote the table.

Models are written in DuckDB's dialect, and where Spark's typing rules differ (`sum` of
`DECIMAL(18,2)` is `DECIMAL(28,2)` on Spark and `DECIMAL(38,2)` on DuckDB; `avg` of a decimal
is a decimal on Spark and a `DOUBLE` on DuckDB; `row_number()` is `INT` on Spark) the
project's dialect decides. A small local DuckDB holds one empty table per table the Spark
engine has registered (the Arrow schema it was attached with, or its Spark schema as Arrow),
types the model's query over them (no data: one `LIMIT 0` over empty tables a model), and the
Spark columns whose type differs are cast to DuckDB's type before anything is written. Only
flat types are cast (numbers, text, binary, dates, timestamps, decimals: what Spark writes as
Parquet that Delta reads as is); nested columns keep Spark's type. When DuckDB cannot type
the query (a table only Spark's workspace holds, a construct DuckDB cannot bind) or gives
another number of columns, Spark's types are kept and it is logged at debug level.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from afluente.engines.duckdb_engine import DuckDBEngine
from afluente.engines.settings import DuckDBSettings
from afluente.engines.spark_frames import delta_ready
from afluente.errors import EngineError
from afluente.model import TableRef

log = logging.getLogger("afluente.engines.spark")


class DuckDBResultTypes:
    """DuckDB's typing of a Spark engine's SQL models, over empty copies of its tables."""

    def __init__(self) -> None:
        self._duckdb: DuckDBEngine | None = None
        self._attached: set[TableRef] = set()
        self._declared: dict[TableRef, pa.Schema] = {}  # attached as Arrow: its exact schema
        self._variables: dict[str, Any] = {}

    def declare(self, ref: TableRef, schema: pa.Schema) -> None:
        """`ref` now holds data of this Arrow schema (copied to DuckDB when next needed)."""
        self._attached.discard(ref)
        self._declared[ref] = schema

    def forget(self, ref: TableRef) -> None:
        """`ref` was replaced or released: its copy is stale."""
        self._attached.discard(ref)
        self._declared.pop(ref, None)

    def set_variables(self, variables: Mapping[str, Any]) -> None:
        self._variables = dict(variables)
        if self._duckdb is not None:
            self._duckdb.set_variables(self._variables)

    def typed(self, frame: Any, sql: str, tables: Mapping[TableRef, Any], table: str) -> Any:
        """`frame` (the Spark result of `sql`) with its columns cast to DuckDB's types of
        `sql` over `tables` (the engine's registered frames), where they differ."""
        wanted = self._duckdb_schema(sql, tables, table)
        if wanted is None:
            return frame
        fields = frame.schema.fields
        if len(fields) != len(wanted):
            log.debug("`%s`: DuckDB gives %d columns, Spark %d; Spark's types kept",
                      table, len(wanted), len(fields))
            return frame
        casts = {field.name: target for field, expected in zip(fields, wanted, strict=True)
                 if (target := _spark_type(expected.type)) is not None
                 and target != field.dataType and delta_ready(field.dataType)}
        if not casts:
            return frame
        from pyspark.sql import functions

        return frame.withColumns({name: functions.col(_quoted(name)).cast(target)
                                  for name, target in casts.items()})

    def _duckdb_schema(self, sql: str, tables: Mapping[TableRef, Any], table: str
                       ) -> pa.Schema | None:
        engine = self._engine()
        for ref, source in tables.items():
            if ref not in self._attached:
                self._attach(engine, ref, source)
        try:
            described = engine.query(f"SELECT * FROM (\n{_statement(sql)}\n) LIMIT 0")
        except EngineError as exc:
            log.debug("`%s`: DuckDB cannot type the query (%s); Spark's types kept",
                      table, exc.message)
            return None
        return described.schema

    def _engine(self) -> DuckDBEngine:
        if self._duckdb is None:
            self._duckdb = DuckDBEngine(DuckDBSettings(threads=1))
            self._duckdb.set_variables(self._variables)
        return self._duckdb

    def _attach(self, engine: DuckDBEngine, ref: TableRef, frame: Any) -> None:
        schema = self._declared.get(ref)
        if schema is None:
            from pyspark.sql.pandas.types import to_arrow_schema

            try:
                schema = to_arrow_schema(frame.schema, timezone="UTC")
            except Exception as exc:  # a Spark type Arrow has no form for (variant...)
                log.debug("`%s` has no Arrow schema (%s): not typed by DuckDB", ref, exc)
                return
        engine.attach_table(ref, schema.empty_table())
        self._attached.add(ref)

    def close(self) -> None:
        if self._duckdb is not None:
            self._duckdb.close()
            self._duckdb = None
        self._attached.clear()


def _spark_type(arrow_type: pa.DataType) -> Any:
    """The flat Spark type of an Arrow type (None: nested, or no Spark form)."""
    from pyspark.sql.pandas.types import from_arrow_type

    try:
        target = from_arrow_type(arrow_type, prefer_timestamp_ntz=True)
    except Exception:  # unsigned integers, intervals: Spark has no such type
        return None
    return target if delta_ready(target) else None


def _statement(sql: str) -> str:
    return sql.strip().rstrip(";").rstrip()


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
