"""The distribution pillar's raw numbers: null rate, approximate distinct count and mean per
column, in ONE aggregate query over the table version just written (for an ingested table,
over the rows this run added only, found by `_run_id` or read from the files the version
added). afluente's own `_` columns are skipped, and so are rows that carry no column values
(a rescued line, a quarantined file).

The rows are streamed to the engine, never gathered in memory, and a large batch is
profiled on its first PROFILE_ROWS rows: the scan stops there (one file and one batch read
ahead), so the cost and memory stay bounded whatever the table size. Distinct counts are
the engine's estimate (DuckDB: linear counting over a 2^20-bit bitmap, within 0.3 % of the
exact count at up to PROFILE_ROWS rows, docs/observability.md), far below the detector's
5 % floor, so they are judged against exact counts of older runs without false alarms."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from afluente.engines import Engine
from afluente.engines.column_stats import RowsProfile

MAX_COLUMNS = 64  # wide tables: the first columns only, to keep the pass cheap
PROFILE_ROWS = 1_000_000
# a rescued line or a quarantined file (docs/sources/files.md) has no column values by
# construction: it is left out, so a batch of only those does not look like every column
# stopped arriving
RESCUED = "_rescued_data"
UNPARSED = '{"_source":'
_NUMERIC = ("int", "uint", "float", "double", "decimal", "halffloat")

Profile = dict[str, dict[str, float | None]]


def pc_filter(dataset: pads.Dataset, run_id: str | None) -> pc.Expression | None:
    """The rows one run ingested, when the table records runs."""
    if run_id is None or "_run_id" not in dataset.schema.names:
        return None
    return pc.field("_run_id") == run_id


def profiled_columns(schema: pa.Schema) -> tuple[list[pa.Field], list[str]]:
    """The columns profiled, and the columns read to profile them (plus `_rescued_data`,
    which tells the rows to leave out)."""
    columns = [f for f in schema if not f.name.startswith("_")][:MAX_COLUMNS]
    read = [f.name for f in columns]
    if columns and RESCUED in schema.names and pa.types.is_string(schema.field(RESCUED).type):
        read.append(RESCUED)
    return columns, read


def head_rows(
    dataset: pads.Dataset, filter: pc.Expression | None = None
) -> pa.RecordBatchReader:
    """At most PROFILE_ROWS rows of `dataset` (matching `filter`), as a stream: the
    profiled columns only (a bronze table's metadata, `_row_hash`, `_source`, ..., would be
    most of the bytes), read with little read-ahead, in file order, stopping there."""
    _, read = profiled_columns(dataset.schema)
    scanner = dataset.scanner(
        columns=read, filter=filter, batch_readahead=1, fragment_readahead=1
    )

    def batches() -> Iterator[pa.RecordBatch]:
        left = PROFILE_ROWS
        for batch in scanner.to_batches():
            if left <= 0:
                return
            if batch.num_rows > left:
                batch = batch.slice(0, left)
            left -= batch.num_rows
            yield batch

    return pa.RecordBatchReader.from_batches(scanner.projected_schema, batches())


def first_rows(paths: list[str], schema: pa.Schema) -> pa.RecordBatchReader:
    """At most PROFILE_ROWS rows of these Parquet files, in the table's schema (a column a
    file lacks reads as null), as a stream (see `head_rows`)."""
    return head_rows(pads.dataset(paths, schema=schema, format="parquet"))


def profile_table(
    rows: pads.Dataset | pa.Table | pa.RecordBatchReader, engine: Engine,
    run_id: str | None = None,
) -> Profile:
    """`{column: {"rows", "null_rate", "distinct", "mean"}}` of the rows (of
    `run_id`, if given, for a dataset), computed by `engine` (reused across tables)."""
    columns, read = profiled_columns(rows.schema)
    if not columns:
        return {}
    skip = (RESCUED, UNPARSED) if RESCUED in read else None
    stream: pa.Table | pa.RecordBatchReader
    if isinstance(rows, pa.Table):
        stream = rows.select(read).slice(0, PROFILE_ROWS)
    elif isinstance(rows, pa.RecordBatchReader):
        stream = rows
    else:
        stream = head_rows(rows, pc_filter(rows, run_id))
    averaged = [f.name for f in columns if str(f.type).startswith(_NUMERIC)]
    return _assembled(columns, engine.profile_rows(stream, [f.name for f in columns],
                                                   averaged, skip))


def profile_files(
    paths: list[str], schema: pa.Schema, engine: Engine, run_id: str | None = None
) -> Profile:
    """`profile_table` of a version's local Parquet files (`schema`: the table's), read by
    the engine itself, which costs less than the Arrow scan (bench/RESULTS.md §16): the
    rows of `run_id` when the table records runs, at most PROFILE_ROWS of them."""
    columns, read = profiled_columns(schema)
    if not columns:
        return {}
    skip = (RESCUED, UNPARSED) if RESCUED in read else None
    only = ("_run_id", run_id) if run_id is not None and "_run_id" in schema.names else None
    averaged = [f.name for f in columns if str(f.type).startswith(_NUMERIC)]
    return _assembled(columns, engine.profile_files(
        paths, [f.name for f in columns], averaged, skip, only, PROFILE_ROWS))


def _assembled(columns: list[pa.Field], measured: RowsProfile) -> Profile:
    total = measured.rows
    profile: Profile = {}
    for f in columns:
        stats = measured.columns[f.name]
        profile[f.name] = {
            "rows": float(total),
            "null_rate": (total - stats.present) / total if total else None,
            "distinct": float(stats.distinct),
            "mean": stats.mean,
        }
    return profile
