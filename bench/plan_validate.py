"""Time `afluente validate` and `afluente plan` on a generated project of many SQL models.

The project: 10 CSV sources (bronze), then silver and gold SQL models, each reading 1-3
upstream tables and carrying a `/* @config */` header (description, tags, column docs).
Every model is valid SQL over the same four columns, so the project can also be run.

    python bench/plan_validate.py                 # 1,000 models, median of 5
    python bench/plan_validate.py --models 2000 --repeat 3 --with-run
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    DATA_DIR,
    ChildFailed,
    Series,
    afluente_cli,
    environment,
    measure,
    wait_for_idle,
    write_result,
)

GOAL_S = 2.0
SOURCES = 10
CSV_ROWS = 20


def _csv(seed: int) -> str:
    rng = random.Random(seed)
    lines = ["id,k,amount,name"]
    for i in range(CSV_ROWS):
        lines.append(f"{i},{rng.randint(0, 4)},{rng.randint(1, 999)}.{rng.randint(0, 99):02d},n{i}")
    return "\n".join(lines) + "\n"


def _header(name: str, upstream: list[str], tags: list[str]) -> str:
    reads = ", ".join(upstream)
    return (
        "/* @config\n"
        "kind: full\n"
        f"description: Synthetic model {name}, reading {reads}.\n"
        f"tags: [{', '.join(tags)}]\n"
        "owner: bench\n"
        "columns:\n"
        "  id: {description: Row key}\n"
        "  k: {description: Small grouping key}\n"
        "  amount: {description: Running amount}\n"
        "  name: {description: A label, tags: [pii]}\n"
        "*/\n"
    )


def _staging_sql(name: str, source: str) -> str:
    return _header(name, [f"bronze.{source}"], ["staging"]) + (
        "SELECT\n"
        "    CAST(id AS BIGINT) AS id,\n"
        "    CAST(k AS INTEGER) AS k,\n"
        "    CAST(amount AS DECIMAL(18, 2)) AS amount,\n"
        "    trim(name) AS name\n"
        f"FROM bronze.{source}\n"
        "WHERE id IS NOT NULL\n"
    )


def _model_sql(name: str, upstream: list[str], tags: list[str], rng: random.Random) -> str:
    first, rest = upstream[0], upstream[1:]
    amount = " + ".join(
        ["t0.amount", *(f"coalesce(t{i}.amount, 0)" for i in range(1, len(upstream)))]
    )
    joins = "".join(f"\nLEFT JOIN {table} AS t{i} USING (id)" for i, table in enumerate(rest, 1))
    shape = rng.random()
    if shape < 0.6:
        return _header(name, upstream, tags) + (
            "SELECT\n"
            "    t0.id,\n"
            "    t0.k,\n"
            f"    CAST({amount} AS DECIMAL(18, 2)) AS amount,\n"
            "    t0.name\n"
            f"FROM {first} AS t0{joins}\n"
            f"WHERE t0.k <> {rng.randint(0, 9)} OR t0.k IS NULL\n"
        )
    return _header(name, upstream, tags) + (
        "WITH joined AS (\n"
        "    SELECT t0.id, t0.k, "
        f"CAST({amount} AS DECIMAL(18, 2)) AS amount, upper(t0.name) AS name\n"
        f"    FROM {first} AS t0{joins.replace(chr(10), chr(10) + '    ')}\n"
        "),\n"
        "ranked AS (\n"
        "    SELECT *, row_number() OVER (PARTITION BY k ORDER BY amount DESC, id) AS rn\n"
        "    FROM joined\n"
        ")\n"
        "SELECT id, k, amount, name FROM ranked WHERE rn <= "
        f"{rng.randint(3, 20)}\n"
    )


def generate_project(root: Path, models: int, seed: int = 42) -> dict[str, int]:
    """Write `root/afluente.yml`, `root/landing/*.csv` and `models` SQL models in total."""
    if models < SOURCES + 2:
        raise SystemExit(f"--models must be at least {SOURCES + 2}")
    if root.exists():
        shutil.rmtree(root)
    (root / "landing").mkdir(parents=True)
    (root / "models" / "silver").mkdir(parents=True)
    (root / "models" / "gold").mkdir(parents=True)
    rng = random.Random(seed)
    config = ["name: bench_plan_validate", "warehouse: warehouse", "engine: duckdb", "sources:"]
    for s in range(SOURCES):
        source = f"src_{s:02d}"
        (root / "landing" / f"{source}.csv").write_text(_csv(seed + s))
        config += [f"  {source}:", "    type: files", f"    path: landing/{source}.csv"]
        config += ["    format: csv"]
    (root / "afluente.yml").write_text("\n".join(config) + "\n")

    n_silver = int(models * 0.4)
    silver: list[str] = []
    gold: list[str] = []
    for i in range(n_silver):
        name = f"s_{i:04d}"
        if i < SOURCES:
            sql = _staging_sql(name, f"src_{i:02d}")
        else:
            upstream = _pick(rng, silver)
            sql = _model_sql(name, upstream, ["silver", f"team_{i % 7}"], rng)
        (root / "models" / "silver" / f"{name}.sql").write_text(sql)
        silver.append(f"silver.{name}")
    for i in range(models - n_silver):
        name = f"g_{i:04d}"
        pool = silver + gold
        upstream = _pick(rng, pool)
        sql = _model_sql(name, upstream, ["gold", f"team_{i % 7}"], rng)
        (root / "models" / "gold" / f"{name}.sql").write_text(sql)
        gold.append(f"gold.{name}")
    return {"sources": SOURCES, "silver": len(silver), "gold": len(gold)}


def _pick(rng: random.Random, pool: list[str]) -> list[str]:
    """1-3 distinct upstream tables, biased to recent ones so the graph gets deep."""
    count = min(len(pool), rng.choice((1, 1, 2, 2, 3)))
    chosen: list[str] = []
    while len(chosen) < count:
        index = len(pool) - 1 - int(abs(rng.gauss(0, max(len(pool) / 4, 1))))
        table = pool[max(index, 0)]
        if table not in chosen:
            chosen.append(table)
    return chosen


def _series(name: str, command: list[str], repeat: int, timeout_s: float) -> Series:
    series = Series(name)
    measure(command, timeout_s=timeout_s)  # warm the OS page cache and .pyc files
    for _ in range(repeat):
        series.runs.append(measure(command, timeout_s=timeout_s))
    return series


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time `afluente validate` and `afluente plan` on a generated project "
        "of many SQL models (goal: under 2 s each at 1,000 models).",
    )
    parser.add_argument("--models", type=int, default=1000, help="SQL models in total")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per command")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--with-run",
        action="store_true",
        help="also run the whole project once, then time `plan` against existing state",
    )
    parser.add_argument(
        "--wait-idle", type=float, default=600, help="seconds to wait for an idle machine"
    )
    parser.add_argument("--timeout", type=float, default=300, help="per-command time limit (s)")
    parser.add_argument(
        "--dir", type=Path, default=None, help="project folder (default bench/.data/plan_N)"
    )
    args = parser.parse_args(argv)

    root = args.dir or DATA_DIR / f"plan_{args.models}"
    counts = generate_project(root, args.models, args.seed)
    cli = afluente_cli()
    print(f"project {root}: {counts}")

    busy = wait_for_idle(args.wait_idle)
    print(f"CPU busy before: {busy:.0%}")
    results: list[Series] = []
    try:
        results.append(
            _series("validate", [cli, "-p", str(root), "validate"], args.repeat, args.timeout)
        )
        results.append(
            _series("plan (no state)", [cli, "-p", str(root), "plan"], args.repeat, args.timeout)
        )
        run_info: dict[str, Any] | None = None
        if args.with_run:
            first_run = measure([cli, "-p", str(root), "run"], timeout_s=args.timeout * 10)
            run_info = {"wall_s": first_run.wall_s, "peak_rss_mib": first_run.peak_rss_mib}
            print(f"full run of {args.models + SOURCES} tables: {first_run.wall_s:.1f} s")
            results.append(
                _series(
                    "plan (after a run)", [cli, "-p", str(root), "plan"], args.repeat, args.timeout
                )
            )
            results.append(
                _series(
                    "run (nothing to do)", [cli, "-p", str(root), "run"], args.repeat, args.timeout
                )
            )
    except ChildFailed as failure:
        print(failure, file=sys.stderr)
        return 1

    payload: dict[str, Any] = {
        "benchmark": "plan_validate",
        "models": args.models,
        "project": counts,
        "goal_s": GOAL_S,
        "environment": environment(),
        "cpu_busy_before": round(busy, 3),
        "full_run": run_info,
        "series": [s.summary() for s in results],
    }
    path = write_result(f"plan_validate_{args.models}", payload)
    print(f"\n{'command':<22} {'median s':>9} {'min s':>7} {'max s':>7} {'RSS MiB':>8}  goal")
    for s in results:
        walls = [m.wall_s for m in s.runs]
        ok = "ok" if s.wall_median_s <= GOAL_S else "OVER"
        print(
            f"{s.name:<22} {s.wall_median_s:>9.2f} {min(walls):>7.2f} {max(walls):>7.2f} "
            f"{s.rss_median_mib:>8.0f}  {ok}"
        )
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
