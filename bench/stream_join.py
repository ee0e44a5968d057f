"""What a stream-to-table join costs per micro-batch: three streaming projects over the same
files, run in rotation (A B C, B C A, C A B, ...): A's silver model a plain `append` of the
new events, B's the same rows joined with a customers dimension read whole at its current
version (`dimensions: silver.customers`), C's the same join reading only the rows of the
micro-batch's customers (`dimensions: {silver.customers: customer_id}`). All three projects
hold the dimension; A does not join it.

    python bench/stream_join.py [--rounds 10] [--events 500] [--customers 100000]

Each round lands one file of `--events` new events in both projects and runs one micro-batch
of each (`bronze.events+`). Prints the medians of the silver model's build time and of the
whole micro-batch, and the paired ratios B/A and C/A with their bootstrap interval
(bench/paired_stats.py).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from paired_stats import paired_difference, paired_ratio, spread

EVENTS = """/* @config
kind: append
{dimensions}*/
SELECT e.event_id, CAST(e.customer_id AS BIGINT) AS customer_id,
       CAST(e.ts AS TIMESTAMP) AS ts, CAST(e.amount AS DOUBLE) AS amount{columns}
FROM bronze.events e{join}
"""
CUSTOMERS = """/* @config
kind: full
*/
SELECT CAST(customer_id AS BIGINT) AS customer_id, tier, uf FROM bronze.customers
"""


def _project(root: Path, joined: str | None, customers: Path) -> Path:
    """`joined`: None (no join), the `dimensions:` value otherwise."""
    for folder in ("landing/events", "models/silver"):
        (root / folder).mkdir(parents=True)
    (root / "afluente.yml").write_text(
        "name: join_bench\nrun:\n  workers: 1\nsources:\n"
        "  events:\n    type: files\n    path: landing/events/*.csv\n    stream: true\n"
        f"  customers:\n    type: files\n    path: {customers}\n", encoding="utf-8")
    (root / "models" / "silver" / "customers.sql").write_text(CUSTOMERS, encoding="utf-8")
    sql = EVENTS.format(
        dimensions=f"dimensions: {joined}\n" if joined else "",
        columns=", c.tier, c.uf" if joined else "",
        join=(" LEFT JOIN silver.customers c ON c.customer_id = CAST(e.customer_id AS "
              "BIGINT)") if joined else "")
    (root / "models" / "silver" / "events.sql").write_text(sql, encoding="utf-8")
    return root


def _land(roots: list[Path], number: int, events: int, customers: int) -> None:
    rng = random.Random(number)
    text = "event_id,customer_id,ts,amount\n" + "".join(
        f"e{number}_{i},{rng.randrange(customers)},2026-01-05 10:{i % 60:02d}:00,"
        f"{rng.random() * 100:.2f}\n" for i in range(events))
    for root in roots:
        aside = root / f".b{number}.tmp"
        aside.write_text(text, encoding="utf-8")
        aside.rename(root / "landing" / "events" / f"b{number:04d}.csv")


def _micro_batch(root: Path) -> tuple[float, float]:
    """One micro-batch: (the silver model's build seconds, the whole run's seconds)."""
    from afluente.config import load_project
    from afluente.runtime import run_project

    started = time.perf_counter()
    result = run_project(load_project(root), "bronze.events+")
    wall = time.perf_counter() - started
    assert result.status == "success", result.error
    (silver,) = [m for m in result.models if str(m.ref) == "silver.events"]
    return silver.duration_s, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    from afluente.config import load_project
    from afluente.runtime import run_project

    work = Path(tempfile.mkdtemp(prefix="afluente-join-bench-"))
    try:
        customers = work / "customers.csv"
        customers.write_text("customer_id,tier,uf\n" + "".join(
            f"{i},{('bronze', 'silver', 'gold')[i % 3]},{('SP', 'RJ', 'MG', 'BA')[i % 4]}\n"
            for i in range(args.customers)), encoding="utf-8")
        roots = [_project(work / "a", None, customers),
                 _project(work / "b", "silver.customers", customers),
                 _project(work / "c", "{silver.customers: customer_id}", customers)]
        for root in roots:  # the dimension, and a first (full) build
            _land([root], 0, args.events, args.customers)
            assert run_project(load_project(root)).status == "success"
        model: list[list[float]] = [[], [], []]
        wall: list[list[float]] = [[], [], []]
        for number in range(1, args.rounds + 1):
            _land(roots, number, args.events, args.customers)
            for which in (number % 3, (number + 1) % 3, (number + 2) % 3):
                seconds, total = _micro_batch(roots[which])
                model[which].append(seconds)
                wall[which].append(total)
        print(f"{args.rounds} rounds, {args.events} events per micro-batch, "
              f"{args.customers} customers, load {os.getloadavg()[0]:.1f}")
        for name, times in (("silver model", model), ("micro-batch", wall)):
            a = times[0]
            print(f"{name}: A plain {spread(a).text(3)} s")
            for label, b in (("B whole", times[1]), ("C keyed", times[2])):
                ratio = paired_ratio(a, b)
                print(f"  {label} {spread(b).text(3)} s, -A {paired_difference(a, b) * 1000:.0f}"
                      f" ms, /A {ratio.median:.2f} ({ratio.ci_low:.2f}-{ratio.ci_high:.2f}), "
                      f"{ratio.verdict()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
