"""Publishing a 1M-row gold table to PostgreSQL (`mode: replace`) vs plain psycopg COPY.

    .venv/bin/python bench/publish_postgres.py --url postgresql://user@127.0.0.1:5432/bench

Three ways to load the same Arrow rows into a fresh table, each timed `--repeat` times:

* `afluente publish` — stream the Delta table's batches, COPY (CSV) into a staging table,
  swap it in and record the version, all in one transaction;
* `psycopg write_row` — the plain way: `cursor.copy()` fed row by row from `to_pylist()`;
* `psycopg COPY csv` — the lower bound: the whole table as one Arrow-written CSV, one COPY.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from deltalake import write_deltalake

from afluente.config import load_project
from afluente.runtime.publish import publish_project

DDL = ("(id bigint, customer text, amount numeric(12,2), ordered_at timestamp with time zone, "
       "quantity integer, paid boolean)")


def gold_rows(rows: int) -> pa.Table:
    ids = pa.array(range(rows), pa.int64())
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    return pa.table({
        "id": ids,
        "customer": pc.binary_join_element_wise("customer-", pc.cast(pc.bit_wise_and(ids, 8191),
                                                                      pa.string()), ""),
        "amount": pa.array([Decimal(i % 100_000) / 100 for i in range(rows)],
                           pa.decimal128(12, 2)),
        "ordered_at": pa.array([start + dt.timedelta(seconds=i) for i in range(rows)],
                               pa.timestamp("us", "UTC")),
        "quantity": pc.cast(pc.bit_wise_and(ids, 15), pa.int32()),
        "paid": pc.equal(pc.bit_wise_and(ids, 1), 0),
    })


def make_project(root: Path, url: str, table: pa.Table) -> Path:
    (root / "models" / "gold").mkdir(parents=True)
    (root / "models" / "gold" / "fct_bench.sql").write_text("SELECT 1 AS id\n")
    (root / "afluente.yml").write_text(
        f"name: bench\nsinks:\n  mart:\n    type: postgres\n    url: {url}\n"
        "    schema: bench\n    tables: [gold.fct_bench]\n")
    write_deltalake(str(root / "warehouse" / "gold" / "fct_bench"), table)
    return root


def timed(repeat: int, action: Callable[[], object]) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def fresh(url: str, name: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS plain")
        conn.execute(f"DROP TABLE IF EXISTS plain.{name}")
        conn.execute(f"CREATE TABLE plain.{name} {DDL}")


def copy_write_row(url: str, table: pa.Table) -> None:
    fresh(url, "by_row")
    with psycopg.connect(url) as conn, conn.cursor() as cur, \
            cur.copy("COPY plain.by_row FROM STDIN") as copy:
        for batch in table.to_batches(65_536):
            for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
                copy.write_row(row)


def copy_csv(url: str, table: pa.Table) -> None:
    fresh(url, "by_csv")
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
    with psycopg.connect(url) as conn, conn.cursor() as cur, \
            cur.copy("COPY plain.by_csv FROM STDIN (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a PostgreSQL URL (a scratch database)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    table = gold_rows(args.rows)
    with tempfile.TemporaryDirectory(prefix="afluente-bench-") as tmp:
        project = load_project(make_project(Path(tmp), args.url, table))
        results = {
            "afluente publish (replace)": timed(
                args.repeat, lambda: publish_project(project, force=True)),
            "psycopg COPY write_row": timed(args.repeat, lambda: copy_write_row(args.url, table)),
            "psycopg COPY csv (one buffer)": timed(args.repeat,
                                                   lambda: copy_csv(args.url, table)),
        }
    for name, times in results.items():
        print(f"{name:32} median {statistics.median(times):6.2f}s  "
              f"runs {', '.join(f'{t:.2f}' for t in times)}  ({args.rows:,} rows)")


if __name__ == "__main__":
    main()
