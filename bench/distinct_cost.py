"""CPU and accuracy of distinct-count expressions on the tables of a built warehouse
(RESULTS.md §32.3): the column profile's linear-counting bitmap (`engines/duckdb_profile.py`)
against cheaper or equivalent DuckDB expressions, over the first PROFILE_ROWS rows of each
table's Parquet files, as the post-run profile reads them. Variants alternate repetition by
repetition; CPU is this process's user+sys around each query.

    .venv/bin/python bench/distinct_cost.py \
        --warehouse bench/.data/compare/reference_1000000/<sha>/warehouse
"""

from __future__ import annotations

import argparse
import math
import resource
from collections.abc import Callable
from pathlib import Path

import duckdb

BITS = 1 << 20
ROWS = 1_000_000
TABLES = ("bronze/orders", "bronze/order_items", "silver/orders", "silver/order_items",
          "gold/fact_order_items")
BITMAP = (f"bit_count(bitstring_agg(hash({{q}}) % {BITS}, 0::UBIGINT, {BITS - 1}::UBIGINT) "
          f"FILTER (WHERE {{q}} IS NOT NULL))")
VARIANTS: dict[str, Callable[[str], str]] = {
    "count only (the scan)": lambda q: f"count({q})",
    "max(hash(c)) (the hash alone)": lambda q: f"count({q}), max(hash({q}))",
    "bitmap (today)": lambda q: f"count({q}), " + BITMAP.format(q=q),
    "count(DISTINCT hash % 2^20)": lambda q: (f"count({q}), count(DISTINCT hash({q}) % {BITS}) "
                                             f"FILTER (WHERE {q} IS NOT NULL)"),
    "approx_count_distinct (HLL)": lambda q: f"count({q}), approx_count_distinct({q})",
}


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def source(warehouse: Path, table: str) -> str:
    files = sorted((warehouse / table).glob("*.parquet"))
    listed = ", ".join(f"'{f}'" for f in files)
    return f"(SELECT * FROM read_parquet([{listed}]) LIMIT {ROWS})"


def columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    described = con.sql(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    return [f'"{row[0]}"' for row in described if not str(row[0]).startswith("_")]


def accuracy(con: duckdb.DuckDBPyConnection, relation: str, column: str) -> tuple[float, float]:
    """Relative error (%) of linear counting and of HLL against the exact count."""
    exact, hll, ones = con.execute(
        f"SELECT count(DISTINCT {column}), approx_count_distinct({column}), "
        f"{BITMAP.format(q=column)} FROM {relation}").fetchone() or (0, 0, 0)
    linear = -BITS * math.log((BITS - ones) / BITS) if ones < BITS else ones
    return (100 * (linear - exact) / max(exact, 1), 100 * (hll - exact) / max(exact, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    con = duckdb.connect()
    relations = {t: source(args.warehouse, t) for t in TABLES}
    seconds: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.repeat):
        for name, expression in VARIANTS.items():
            spent = 0.0
            for relation in relations.values():
                parts = ", ".join(expression(c) for c in columns(con, relation))
                started = cpu()
                con.execute(f"SELECT count(*), {parts} FROM {relation}").fetchall()
                spent += cpu() - started
            seconds[name].append(round(spent, 2))
    print("| expression | CPU s per repetition |\n|---|---|")
    for name, spent in seconds.items():
        print(f"| {name} | {', '.join(f'{s:.2f}' for s in spent)} |")
    errors = [accuracy(con, relation, c) for relation in relations.values()
              for c in columns(con, relation)]
    print(f"\nlinear counting error: {min(e[0] for e in errors):+.2f} .. "
          f"{max(e[0] for e in errors):+.2f} %; HLL: {min(e[1] for e in errors):+.2f} .. "
          f"{max(e[1] for e in errors):+.2f} %")


if __name__ == "__main__":
    main()
