"""What bronze's `_row_hash` costs (RESULTS.md §13.2): one CSV read as VARCHAR into DuckDB,
then `COPY … TO parquet` with no hash, today's md5 hex, `md5_number_upper` and `hash()`;
CPU of this process (DuckDB's threads included), alternating, median of --repeat.

    .venv/bin/python bench/row_hash_cost.py bench/.data/reference_1000000/raw/order_items.csv
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile

import duckdb


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("csv")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, all_varchar = true)", [args.csv])
    columns = [row[0] for row in con.execute("DESCRIBE t").fetchall()]
    joined = "concat_ws(chr(31), " + ", ".join(
        f"coalesce(CAST(\"{c}\" AS VARCHAR), '\\N')" for c in columns) + ")"
    hashes = {"none": None, "md5 hex (today)": f"md5({joined})",
              "md5_number_upper": f"md5_number_upper({joined})", "hash()": f"hash({joined})"}
    spent: dict[str, list[float]] = {k: [] for k in hashes}
    size: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "h.parquet")
        for _ in range(args.repeat):
            for name, expr in hashes.items():
                select = "*" if expr is None else f"*, {expr} AS _row_hash"
                start = cpu()
                con.execute(f"COPY (SELECT {select} FROM t) TO '{out}' (FORMAT parquet)")
                spent[name].append(cpu() - start)
                size[name] = os.path.getsize(out)
    rows = con.execute("SELECT count(*) FROM t").fetchone()
    print(f"duckdb {duckdb.__version__}, {rows[0] if rows else 0} rows, {args.threads} threads")
    for name, runs in spent.items():
        print(f"{name:<18} CPU median {statistics.median(runs):.2f} s  "
              f"Parquet {size[name] / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
