"""The distribution pillar's raw numbers: null rate, distinct count and mean per column, in
ONE aggregate query over the table version just written (for an ingested table, over the
rows this run added only, found by `_run_id`). afluente's own `_` columns are skipped.
Distinct counts are exact up to EXACT_DISTINCT_ROWS rows and HyperLogLog estimates above (a
few percent off): exact ones hold every value in memory, gigabytes on a large table."""

from __future__ import annotations

import duckdb
import pyarrow.dataset as pads

MAX_COLUMNS = 64  # wide tables: the first columns only, to keep the pass cheap
EXACT_DISTINCT_ROWS = 1_000_000
_NUMERIC = ("int", "uint", "float", "double", "decimal", "halffloat")

Profile = dict[str, dict[str, float | None]]


def profile_table(dataset: pads.Dataset, run_id: str | None = None) -> Profile:
    """`{column: {"null_rate", "distinct", "mean"}}` of the rows (of `run_id`, if given)."""
    columns = [f for f in dataset.schema if not f.name.startswith("_")][:MAX_COLUMNS]
    if not columns:
        return {}
    parts = ["count(*)"]
    distinct = "count(DISTINCT {})"
    if dataset.count_rows() > EXACT_DISTINCT_ROWS:  # from the Parquet footers: no scan
        distinct = "approx_count_distinct({})"
    for f in columns:
        q = '"' + f.name.replace('"', '""') + '"'
        mean = f"avg({q})::DOUBLE" if str(f.type).startswith(_NUMERIC) else "NULL"
        parts += [f"count({q})", distinct.format(q), mean]
    where = ""
    if run_id is not None and "_run_id" in dataset.schema.names:
        where = " WHERE _run_id = $run_id"
    sql = f"SELECT {', '.join(parts)} FROM profiled{where}"
    with duckdb.connect() as con:
        con.register("profiled", dataset)
        params = {"run_id": run_id} if where else None
        row = con.execute(sql, params).fetchone()
    assert row is not None
    total = int(row[0])
    profile: Profile = {}
    for i, f in enumerate(columns):
        present, distinct, mean = row[1 + 3 * i : 4 + 3 * i]
        profile[f.name] = {
            "rows": float(total),
            "null_rate": (total - int(present)) / total if total else None,
            "distinct": float(distinct),
            "mean": float(mean) if mean is not None else None,
        }
    return profile
