"""DuckDB's side of describing and profiling data outside a model's query: the types a
result with an Arrow schema has, a declared type's canonical spelling, column profiles
(distinct counts estimated by linear counting, see `BITMAP_BITS`), and typed rows cast from
text (unit-test fixtures).

These run on a cursor of the engine's database, not on its main connection, so they never
disturb a result still streaming from a model (a contract is checked on the schema of a
result that has not been read yet)."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    import pyarrow as pa

from afluente.engines.column_stats import ColumnStats, RowsProfile
from afluente.errors import EngineError
from afluente.sql_text import ident, string

_PROFILED = "__afluente_profiled"
# Distinct values are estimated by linear counting: each value's 64-bit hash sets one bit of
# a BITMAP_BITS-bit bitmap (`bitstring_agg`, 128 KiB a column whatever the rows), and
# n = -m ln(zero bits / m). Up to m values (the profile reads at most 1M rows) it is within
# 0.3 % of the exact count (measured: bench/RESULTS.md §13), where an exact
# `count(DISTINCT)` keeps every value of every column in a hash table. DuckDB's own
# `approx_count_distinct` (HyperLogLog) was off by up to 59 %: too coarse for the anomaly
# detector.
BITMAP_BITS = 1 << 20
_TEXT = "__afluente_text"


class DuckDBProfiling:
    """The schema, profile and fixture operations of `DuckDBEngine` (a mixin over its
    `connection`)."""

    connection: Any

    def _aside(self) -> Any:
        """A cursor on the same database, made once, with UTC as its time zone."""
        aside = self.__dict__.get("_aside_cursor")
        if aside is None:
            aside = self.connection.cursor()
            aside.execute("SET TimeZone = 'UTC'")
            self.__dict__["_aside_cursor"] = aside
        return aside

    def column_types(self, schema: pa.Schema) -> dict[str, str]:
        relation = self._aside().from_arrow(schema.empty_table())
        return {name: str(t) for name, t in zip(relation.columns, relation.types, strict=True)}

    def canonical_type(self, sql_type: str) -> str:
        known: dict[str, str] = self.__dict__.setdefault("_canonical_types", {})
        if sql_type not in known:
            try:
                row = self._aside().execute(
                    f"SELECT typeof(CAST(NULL AS {sql_type}))"
                ).fetchone()
            except duckdb.Error as exc:
                raise EngineError(f"{sql_type!r} is not a DuckDB type: {str(exc).strip()}",
                                  hint="use a DuckDB type such as BIGINT or VARCHAR") from None
            assert row is not None
            known[sql_type] = str(row[0])
        return known[sql_type]

    def profile_rows(
        self,
        rows: pa.Table | pa.RecordBatchReader,
        columns: Sequence[str],
        averaged: Collection[str] = (),
        skip_prefixed: tuple[str, str] | None = None,
    ) -> RowsProfile:
        aside = self._aside()
        aside.register(_PROFILED, rows)
        try:
            return _profile(aside, _PROFILED, columns, averaged, skip_prefixed)
        finally:
            aside.unregister(_PROFILED)

    def profile_files(
        self,
        paths: Sequence[str],
        columns: Sequence[str],
        averaged: Collection[str] = (),
        skip_prefixed: tuple[str, str] | None = None,
        equals: tuple[str, str] | None = None,
        limit: int | None = None,
    ) -> RowsProfile:
        aside = self._aside()
        try:
            source = _files_source(aside, paths, equals, limit)
        except duckdb.Error as exc:
            raise EngineError(f"profiling failed: {str(exc).strip()}") from None
        return _profile(aside, source, columns, averaged, skip_prefixed)

    def cast_text(self, text: pa.Table, types: Mapping[str, str]) -> pa.Table:
        casts = ", ".join(
            f"TRY_CAST({ident(name)} AS {kind}) AS {ident(name)}" for name, kind in types.items()
        )
        aside = self._aside()
        aside.register(_TEXT, text)
        try:
            typed: pa.Table = aside.sql(f"SELECT {casts} FROM {_TEXT}").to_arrow_table()
        except duckdb.Error as exc:
            raise EngineError(str(exc).strip(), hint="check the column types") from None
        finally:
            aside.unregister(_TEXT)
        return typed


def _files_source(
    aside: Any, paths: Sequence[str], equals: tuple[str, str] | None, limit: int | None
) -> str:
    """The subquery of the first `limit` rows (in file order) of `paths` matching `equals`.

    An order-keeping `LIMIT` over a parallel scan costs about twice the scan's CPU and a
    buffer of rows (bench/RESULTS.md §16), so without a row filter the cut is made from the
    files' footers instead: the whole files that fit, and the next one's first rows by
    `file_row_number`."""
    listed = ", ".join(string(p) for p in paths)
    scan = f"read_parquet([{listed}], union_by_name = true"
    if equals is not None:
        first = f" LIMIT {int(limit)}" if limit is not None else ""
        return (f"(SELECT * FROM {scan}) WHERE {ident(equals[0])} = {string(equals[1])}"
                f"{first})")
    if limit is None:
        return f"{scan})"
    counts = dict(aside.execute(
        f"SELECT file_name, num_rows FROM parquet_file_metadata([{listed}])").fetchall())
    whole: list[str] = []
    left = int(limit)
    for path in paths:
        if path not in counts:
            raise duckdb.InvalidInputException(f"no footer read for {path}")
        rows = int(counts[path])
        if rows > left and left > 0:  # this file is cut: its first `left` rows
            kept = ", ".join(string(p) for p in [*whole, path])
            keep = f"filename IN ({', '.join(string(p) for p in whole)}) OR " if whole else ""
            return (f"(SELECT * EXCLUDE (filename, file_row_number) FROM read_parquet([{kept}], "
                    f"union_by_name = true, filename = true, file_row_number = true) "
                    f"WHERE {keep}(filename = {string(path)} AND file_row_number < {left}))")
        if rows > left:
            break
        whole.append(path)
        left -= rows
    if len(whole) == len(paths):
        return f"{scan})"
    return f"read_parquet([{', '.join(string(p) for p in whole)}], union_by_name = true)"


def _profile(
    aside: Any, source: str, columns: Sequence[str], averaged: Collection[str],
    skip_prefixed: tuple[str, str] | None,
) -> RowsProfile:
    """The one aggregate query of a profile over `source` (a table name or subquery)."""
    parts = ["count(*)"]
    for name in columns:
        q = ident(name)
        mean = f"avg({q})::DOUBLE" if name in averaged else "NULL"
        ones = (f"bit_count(bitstring_agg(hash({q}) % {BITMAP_BITS}, 0::UBIGINT, "
                f"{BITMAP_BITS - 1}::UBIGINT) FILTER (WHERE {q} IS NOT NULL))")
        parts += [f"count({q})", ones, mean]
    where = ""
    if skip_prefixed is not None:
        q = ident(skip_prefixed[0])
        where = f" WHERE {q} IS NULL OR NOT starts_with({q}, {string(skip_prefixed[1])})"
    try:
        row = aside.execute(f"SELECT {', '.join(parts)} FROM {source}{where}").fetchone()
    except duckdb.Error as exc:
        raise EngineError(f"profiling failed: {str(exc).strip()}") from None
    assert row is not None
    stats = {
        name: ColumnStats(
            present=int(row[1 + 3 * i]),
            distinct=_distinct(row[2 + 3 * i], int(row[1 + 3 * i])),
            mean=float(row[3 + 3 * i]) if row[3 + 3 * i] is not None else None,
        )
        for i, name in enumerate(columns)
    }
    return RowsProfile(rows=int(row[0]), columns=stats)


def _distinct(ones: int | None, present: int) -> int:
    """The linear-counting estimate from the bits set, never more than the values present
    (a full bitmap, only possible past BITMAP_BITS values, gives its bit count)."""
    if not ones:
        return 0
    if ones >= BITMAP_BITS:
        return min(int(ones), present)
    estimate = -BITMAP_BITS * math.log((BITMAP_BITS - ones) / BITMAP_BITS)
    return min(round(estimate), present)
