"""The reference pipeline when 1 % new orders land: an incremental run against a full rebuild.

The landing zone of `reference_pipeline.py` (`gen_orders.py --orders N`) is split by order:
the orders (and their lines) with the highest 1 % of order ids land later, in a second file
of each folder, together with re-landed copies of older orders whose status changed and of
older order lines whose quantity changed, 0.1 % of each table's rows (updates to keys that
live in the silver tables' old files). The changed orders are among the 5 % placed just before
the new ones (a status moves while an order is recent) and parse cleanly: a re-landed bad
row would replace its earlier quarantine entry in an incremental run (the record was sent
again) but sit beside it in a full rebuild, which is by design, not a difference to measure.
`bench/reference_incremental_project/` is the reference port with the silver tables as
`merge` models reading those folders.

Each pair runs, in an order alternating per pair:

- **incremental**: a fresh project over the first files only (the base build, measured but
  not compared), then the second files land and afluente runs again: that run is measured;
- **full**: a fresh project over both files at once: the full rebuild of the same data.

Reported: medians of wall, CPU and peak RSS of both, the paired ratio incremental / full
(the issue's goal is ≤ 0.10), and afluente's per-model seconds of the incremental run.
`verify.py` then compares the incremental project's tables with the full rebuild's (row
counts, quarantine reasons, sums, an order-independent checksum of every silver and gold
table): a different content makes the script exit 1, a fast wrong answer never counts.

    python bench/reference_incremental.py --orders 20000 --pairs 1 --wait-idle 0   # harness
    python bench/reference_incremental.py --orders 1000000 --pairs 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_DIR,
    DATA_DIR,
    REPO_ROOT,
    Measurement,
    afluente_cli,
    environment,
    measure,
    wait_for_idle,
    write_result,
)
from reference_pipeline import afluente_layout, cpu, landing_zone, per_model

PROJECT = BENCH_DIR / "reference_incremental_project"
SIDES = ("incremental", "full")
RECENT = 0.05
# the later file of each folder: the newest orders, plus changed copies of older rows
SPLIT = {
    "orders": (
        "order_id", "hash(order_id)",
        "TRY_CAST(customer_id AS BIGINT) IS NOT NULL "
        "AND try_strptime(order_ts, '%Y-%m-%d %H:%M:%S') IS NOT NULL "
        "AND TRY_CAST(replace(amount, ',', '.') AS DECIMAL(18,2)) IS NOT NULL",
        "SELECT order_id, customer_id, order_ts, "
        "CASE status WHEN 'cancelled' THEN 'delivered' ELSE 'cancelled' END AS status, "
        "channel, amount",
    ),
    "order_items": (
        "order_id", "hash(order_id, line_no)", "true",
        "SELECT order_id, line_no, product_id, "
        "CAST(TRY_CAST(quantity AS INTEGER) % 5 + 1 AS VARCHAR) AS quantity, unit_price",
    ),
}


def split_landing(raw: Path, orders: int, new_share: float, changed_share: float) -> Path:
    """Two files per growing folder: `part-0.csv` (the base) and `part-1.csv` (what lands
    later); written once per landing zone and shares."""
    import duckdb

    root = raw.parent / f"split_{new_share}_{changed_share}"
    stamp, key = root / ".split", (raw / ".generated").read_text() + repr((SPLIT, RECENT))
    if stamp.exists() and stamp.read_text() == key:
        return root
    shutil.rmtree(root, ignore_errors=True)
    cut = int(orders * (1 - new_share))
    recent = int(orders * RECENT)  # updates touch the orders placed shortly before
    every = max(round(RECENT / changed_share), 1)
    con = duckdb.connect()
    for table, (column, pick, clean, changed) in SPLIT.items():
        (root / table).mkdir(parents=True)
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{raw / table}.csv', "
                    "all_varchar = true, header = true)")
        is_new = f"TRY_CAST({column} AS BIGINT) > {cut}"
        old_ids = f"TRY_CAST({column} AS BIGINT) BETWEEN {cut - recent} AND {cut}"
        con.execute(f"COPY (SELECT * FROM t WHERE NOT coalesce({is_new}, false)) "
                    f"TO '{root / table / 'part-0.csv'}' (HEADER)")
        con.execute(
            f"COPY (SELECT * FROM t WHERE {is_new} UNION ALL "
            f"{changed} FROM (SELECT DISTINCT * FROM t WHERE {old_ids} "
            f"AND {clean} AND {pick} % {every} = 0)) "
            f"TO '{root / table / 'part-1.csv'}' (HEADER)")
        con.execute("DROP TABLE t")
    for table in ("customers", "products"):
        (root / f"{table}.csv").symlink_to(raw / f"{table}.csv")
    stamp.write_text(key)
    return root


def landing(split: Path, into: Path, parts: int) -> None:
    """`into` holds the first `parts` files of each growing folder (hard links)."""
    for table in SPLIT:
        (into / table).mkdir(parents=True, exist_ok=True)
        for part in range(parts):
            name = f"part-{part}.csv"
            if not (into / table / name).exists():
                os.link(split / table / name, into / table / name)
    for table in ("customers", "products"):
        if not (into / f"{table}.csv").exists():
            (into / f"{table}.csv").symlink_to(split / f"{table}.csv")


def fresh(work: Path, side: str) -> tuple[Path, Path]:
    project, land = work / side / "project", work / side / "landing"
    shutil.rmtree(work / side, ignore_errors=True)
    shutil.copytree(PROJECT, project)
    land.mkdir(parents=True)
    return project, land


def run(project: Path, land: Path) -> Measurement:
    env = dict(os.environ, REFERENCE_RAW=str(land))
    return measure([afluente_cli(), "-p", str(project), "--json", "run"], cwd=project,
                   env=env, stdout_limit=200_000)


def side(name: str, split: Path, work: Path) -> dict[str, Any]:
    project, land = fresh(work, name)
    done: dict[str, Any] = {}
    if name == "incremental":
        landing(split, land, 1)
        done["base"] = run(project, land)
        landing(split, land, 2)
    else:
        landing(split, land, 2)
    done["measured"] = run(project, land)
    return done


def stages(m: Measurement) -> dict[str, float]:
    """Of a measured run's wall time: the run itself (its report's start to end) and the
    rest (start-up before it, the post-run metrics and exit after it)."""
    from datetime import datetime

    try:
        report = json.loads(m.stdout_tail)
    except json.JSONDecodeError:
        return {}
    span = (datetime.fromisoformat(report["finished_at"])
            - datetime.fromisoformat(report["started_at"])).total_seconds()
    return {"run_s": round(span, 2), "outside_run_s": round(m.wall_s - span, 2)}


def verify(reference: Path, work: Path) -> dict[str, Any]:
    outs = [afluente_layout(work, work / s / "project", work / "out" / s) for s in SIDES]
    checked = subprocess.run(
        [sys.executable, str(reference / "verify.py"), str(outs[1]), str(outs[0])],
        cwd=reference, capture_output=True, text=True, check=False,
    )
    return {"match": checked.returncode == 0, "output": checked.stdout + checked.stderr}


def summarise(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    inc = [p["incremental"]["measured"] for p in pairs]
    full = [p["full"]["measured"] for p in pairs]
    paired = list(zip(inc, full, strict=True))

    def medians(ms: list[Measurement]) -> dict[str, float]:
        return {"wall_median_s": round(statistics.median(m.wall_s for m in ms), 2),
                "cpu_median_s": round(statistics.median(cpu(m) for m in ms), 2),
                "peak_rss_median_mib": round(statistics.median(m.peak_rss_mib for m in ms), 1)}

    return {
        "incremental": medians(inc), "full": medians(full),
        "incremental_over_full": {
            "wall": round(statistics.median(a.wall_s / b.wall_s for a, b in paired), 3),
            "cpu": round(statistics.median(cpu(a) / cpu(b) for a, b in paired), 3),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--new-share", type=float, default=0.01)
    parser.add_argument("--changed-share", type=float, default=0.001)
    parser.add_argument("--reference", type=Path,
                        default=REPO_ROOT.parent / "shared" / "perf-reference")
    parser.add_argument("--wait-idle", type=float, default=600.0)
    parser.add_argument("--label", default="", help="appended to the results file's name")
    args = parser.parse_args()
    reference = args.reference.resolve()
    if not (reference / "PIPELINE.md").exists():
        raise SystemExit(f"no reference pipeline at {reference} (pass --reference)")
    raw = landing_zone(reference, args.orders, args.seed)
    split = split_landing(raw, args.orders, args.new_share, args.changed_share)
    work = DATA_DIR / f"reference_incremental_{args.orders}"
    pairs: list[dict[str, Any]] = []
    busy: list[float] = []
    for number in range(args.pairs):
        order = SIDES if number % 2 == 0 else SIDES[::-1]
        pair: dict[str, Any] = {}
        for name in order:
            busy.append(round(wait_for_idle(args.wait_idle), 3))
            pair[name] = side(name, split, work)
            m = pair[name]["measured"]
            print(f"pair {number + 1} {name:11s} wall {m.wall_s:7.2f} s  cpu {cpu(m):7.2f} s  "
                  f"rss {m.peak_rss_mib:7.0f} MiB", flush=True)
        pairs.append(pair)
    checked = verify(reference, work)
    summary = summarise(pairs)
    models = [per_model(p["incremental"]["measured"]) for p in pairs]
    spans = [{s: stages(p[s]["measured"]) for s in SIDES} for p in pairs]
    print(checked["output"])
    print(json.dumps(summary, indent=2))
    print(json.dumps(models[-1], indent=2))
    for p in pairs:
        for done in p.values():
            for m in done.values():
                m.stdout_tail = m.stdout_tail[-2000:]
    path = write_result(f"reference_incremental_{args.orders}{args.label}", {
        "environment": environment(), "orders": args.orders, "pairs": args.pairs,
        "new_share": args.new_share, "changed_share": args.changed_share,
        "busy_before_each_side": busy, "content_verified": checked, "summary": summary,
        "incremental_model_seconds": models, "stages": spans,
        "runs": [{s: {k: vars(m) for k, m in done.items()} for s, done in p.items()}
                 for p in pairs],
    })
    print(f"results: {path}")
    return 0 if checked["match"] else 1


if __name__ == "__main__":
    sys.exit(main())
