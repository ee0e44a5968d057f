"""Distinct-count estimators against the exact count (RESULTS.md §13.1): DuckDB's
HyperLogLog `approx_count_distinct` and the linear counting the column profile uses
(`engines/duckdb_profile.py`), on random sets of md5 strings of each size.

    .venv/bin/python bench/distinct_accuracy.py --sets 100
"""

from __future__ import annotations

import argparse
import math
import statistics

import duckdb

BITS = 1 << 20
SIZES = (3, 10, 100, 1_000, 10_000, 100_000, 1_000_000)


def linear_counting(ones: int) -> float:
    return -BITS * math.log((BITS - ones) / BITS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sets", type=int, default=100, help="random sets per size (÷10 "
                        "above 10,000 values)")
    args = parser.parse_args()
    con = duckdb.connect()
    print(f"duckdb {duckdb.__version__}")
    print(f"{'values':>9} {'HLL sd':>8} {'HLL max':>8} {'LC sd':>8} {'LC max':>8}")
    for n in SIZES:
        hll: list[float] = []
        lc: list[float] = []
        for seed in range(args.sets if n <= 10_000 else max(args.sets // 10, 2)):
            values = f"(SELECT md5((i + {seed} * 1000003)::VARCHAR) AS x FROM range({n}) t(i))"
            approx, ones = con.execute(
                f"SELECT approx_count_distinct(x), bit_count(bitstring_agg(hash(x) % {BITS}, "
                f"0::UBIGINT, {BITS - 1}::UBIGINT)) FROM {values}"
            ).fetchone() or (0, 0)
            hll.append((approx - n) / n)
            lc.append((round(linear_counting(ones)) - n) / n)
        print(f"{n:>9} {statistics.pstdev(hll):>8.2%} {max(map(abs, hll)):>8.2%} "
              f"{statistics.pstdev(lc):>8.3%} {max(map(abs, lc)):>8.3%}")


if __name__ == "__main__":
    main()
