"""Incremental models through the real runtime (`run_project`), on Parquet sources.

1. An `append` and a `merge` model over a bronze table of N rows: after 1 % new rows land
   (one new file), the incremental run (reads only the new files) vs a `--full-refresh`
   rebuild of the same model. Only the model's own step is timed (bronze is ingested first).
2. apply_changes SCD2 throughput: B batches of change events over K keys, 10 % of each
   batch's events late (their sequence belongs to an earlier batch); each batch is ingested
   then folded into the dimension by the model; events/s over the model steps.

    .venv/bin/python bench/incremental.py --rows 2000000 --events 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from tempfile import mkdtemp

import duckdb

from afluente.config import load_project
from afluente.runtime import run_project

RESULTS = Path(__file__).resolve().parent / "results"
PROJECT = """name: bench_incremental
warehouse: warehouse
engine: duckdb
sources:
  sales: {type: files, path: landing/sales/*.parquet, format: parquet}
  changes: {type: files, path: landing/changes/*.parquet, format: parquet}
"""
MODEL = """/* @config
kind: %s
*/
SELECT id, customer, amount, amount * 1.1 AS gross, upper(region) AS region, sold_at
FROM bronze.sales
"""
SCD2 = """/* @config
kind: apply_changes
keys: id
sequence_by: seq
apply_as_deletes: "op = 'D'"
except_columns: [op]
scd_type: 2
track_history_columns: [city]
*/
SELECT id, seq, op, city, score FROM bronze.changes
"""
SALES_SQL = """
SELECT ({start} + i)::BIGINT AS id, (i % 50000)::BIGINT AS customer,
       ((i * 37) % 100000) / 100.0 AS amount, ['n', 's', 'e', 'w'][i % 4 + 1] AS region,
       TIMESTAMP '2025-01-01' + to_seconds(i % 8640000) AS sold_at
FROM range({n}) t(i)
"""
CHANGES_SQL = """
SELECT (hash(i, {batch}) % {keys})::BIGINT AS id,
       (CASE WHEN i % 10 = 0 AND {batch} > 0 THEN ({batch} - 1) * {n} + i
             ELSE {batch} * {n} + i END)::BIGINT * 2 + {batch} % 2 AS seq,
       CASE WHEN i % 50 = 7 THEN 'D' ELSE 'U' END AS op,
       'city-' || (hash(i, {batch}, 'c') % 200) AS city, (i % 1000)::DOUBLE AS score
FROM range({n}) t(i)
"""


def write_parquet(path: Path, sql: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet)")


def model_seconds(root: Path, selector: str, full_refresh: bool = False) -> tuple[float, str]:
    result = run_project(load_project(root), selector, full_refresh=full_refresh)
    model = result.models[-1]
    assert model.status == "success", model.reason
    return model.duration_s, model.reason


def incremental_vs_full(root: Path, kind: str, rows: int) -> dict[str, object]:
    (root / "models/silver").mkdir(parents=True, exist_ok=True)
    header = "append" if kind == "append" else "merge\nunique_key: id"
    (root / f"models/silver/sales_{kind}.sql").write_text(MODEL % header)
    model = f"silver.sales_{kind}"
    model_seconds(root, f"+{model}")  # first build
    new = rows // 100
    start = rows * (3 if kind == "merge" else 2)  # ids not in bronze yet
    write_parquet(root / f"landing/sales/new_{kind}.parquet", SALES_SQL.format(start=start, n=new))
    run_project(load_project(root), "bronze.sales")
    incremental, reason = model_seconds(root, model)
    full, _ = model_seconds(root, model, full_refresh=True)
    return {
        "kind": kind, "base_rows": rows, "new_rows": new, "incremental_s": round(incremental, 3),
        "full_rebuild_s": round(full, 3), "ratio": round(incremental / full, 4),
        "incremental_reason": reason,
    }


def scd2_throughput(root: Path, events: int, batches: int, keys: int) -> dict[str, object]:
    (root / "models/silver/customer_scd2.sql").write_text(SCD2)
    per_batch = events // batches
    seconds = []
    for batch in range(batches):
        write_parquet(root / f"landing/changes/batch_{batch:03d}.parquet",
                      CHANGES_SQL.format(batch=batch, n=per_batch, keys=keys))
        run_project(load_project(root), "bronze.changes")
        took, _ = model_seconds(root, "silver.customer_scd2")
        seconds.append(took)
    total = sum(seconds)
    return {
        "events": per_batch * batches, "batches": batches, "keys": keys, "late_share": 0.10,
        "model_s": round(total, 3), "events_per_s": round(per_batch * batches / total),
        "batch_s": [round(s, 3) for s in seconds],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--keys", type=int, default=100_000)
    args = parser.parse_args()
    root = Path(mkdtemp(prefix="afluente-bench-incremental-"))
    (root / "afluente.yml").write_text(PROJECT)
    for part in range(10):
        step = args.rows // 10
        write_parquet(root / f"landing/sales/base_{part}.parquet",
                      SALES_SQL.format(start=part * step, n=step))
    started = time.perf_counter()
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "incremental_vs_full": [incremental_vs_full(root, k, args.rows)
                                for k in ("append", "merge")],
        "apply_changes_scd2": scd2_throughput(root, args.events, args.batches, args.keys),
    }
    report["total_s"] = round(time.perf_counter() - started, 1)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"incremental_{args.rows}_{args.events}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
