"""What each mask costs DuckDB per value (issue 15, RESULTS §29): 1M rows in memory, each
expression's result fetched as Arrow, the expressions taken in turn (round robin), medians.

    PYTHONPATH=src python bench/mask_cost.py --rows 1000000 --rounds 7
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import duckdb

from afluente.governance.policies import mask_sql

LEGACY_PARTIAL = ("lpad(right(CAST(v AS VARCHAR), 4), "
                  "CAST(length(CAST(v AS VARCHAR)) AS INTEGER), '*')")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT i AS id, 'person' || i || '@example.com' AS v "
                f"FROM range({args.rows}) r(i)")
    key = os.urandom(32)
    expressions = {"raw": "v", "partial (before: lpad/right)": LEGACY_PARTIAL,
                   **{kind: mask_sql(kind, "v", key)  # type: ignore[arg-type]
                      for kind in ("partial", "redact", "hmac", "hash")}}
    times: dict[str, list[float]] = {name: [] for name in expressions}
    for _ in range(args.rounds):
        for name, sql in expressions.items():
            started = time.perf_counter()
            con.execute(f"SELECT id, {sql} AS v FROM t").to_arrow_table()
            times[name].append(time.perf_counter() - started)
    raw = statistics.median(times["raw"])
    report = {name: {"median_s": round(statistics.median(v), 3),
                     "x_raw": round(statistics.median(v) / raw, 2)} for name, v in times.items()}
    sys.stdout.write(json.dumps({"rows": args.rows, "load": os.getloadavg(), **report},
                                indent=1) + "\n")


if __name__ == "__main__":
    main()
