"""The reference medallion pipeline: afluente against the hand-written implementations.

`shared/perf-reference/` (outside this repository; `--reference`) specifies a pipeline that
afluente was never tuned on (`PIPELINE.md`): a dirty e-commerce landing zone
(`gen_orders.py`), bronze → silver with strict parsing, quarantine and de-duplication → five
gold tables, written by hand in raw DuckDB SQL → Parquet (`impl_duckdb_parquet.py`, the
engine's own speed), Polars (`impl_polars.py`) and dbt-duckdb (`impl_dbt.sh`).
`bench/reference_project/` is the same pipeline ported to afluente as a user would: four
files sources, SQL models, expectations that quarantine bad orders.

Each repetition runs every tool once as a child process, in an order rotated per
repetition so none always runs first (warm caches) or last; afluente starts from an empty
warehouse and state store each time. Reported: medians of wall, CPU (user + sys) and peak
RSS per tool, and the median of the per-repetition ratios afluente / tool (paired, so a
slower moment of the machine hits both sides of a ratio alike).

After the last repetition `verify.py` (the reference's own checker) compares every output
with raw DuckDB's: row counts of the 14 tables, quarantine counts per reason, sums and an
order-independent checksum of every silver and gold table. A result whose content differs is
reported as such and the script exits 1: a faster wrong answer never counts.

    python bench/reference_pipeline.py --orders 20000 --repeat 1 --wait-idle 0   # harness check
    python bench/reference_pipeline.py --orders 1000000 --repeat 5              # ~10 min
    python bench/reference_pipeline.py --orders 5000000 --repeat 3 --tools afluente,duckdb
"""

from __future__ import annotations

import argparse
import hashlib
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

PROJECT = BENCH_DIR / "reference_project"
DBT_VENV = DATA_DIR / "venv-dbt"
TOOLS = ("afluente", "duckdb", "polars", "dbt")
# reference table name -> afluente table (layer, name)
TABLES = {
    "bronze_orders": ("bronze", "orders"),
    "bronze_customers": ("bronze", "customers"),
    "bronze_products": ("bronze", "products"),
    "bronze_order_items": ("bronze", "order_items"),
    "silver_orders": ("silver", "orders"),
    "silver_customers": ("silver", "customers"),
    "silver_products": ("silver", "products"),
    "silver_order_items": ("silver", "order_items"),
    "gold_daily_category_revenue": ("gold", "daily_category_revenue"),
    "gold_customer_ltv": ("gold", "customer_ltv"),
    "gold_dim_customer": ("gold", "dim_customer"),
    "gold_dim_product": ("gold", "dim_product"),
    "gold_fact_order_items": ("gold", "fact_order_items"),
}


def landing_zone(reference: Path, orders: int, seed: int) -> Path:
    """Generate the CSV landing zone once per (generator, N, seed)."""
    root = DATA_DIR / f"reference_{orders}"
    raw = root / "raw"
    generator = reference / "gen_orders.py"
    key = hashlib.sha256(generator.read_bytes()).hexdigest()[:16] + f":{orders}:{seed}"
    stamp = raw / ".generated"
    if stamp.exists() and stamp.read_text() == key:
        return raw
    shutil.rmtree(raw, ignore_errors=True)
    subprocess.run([sys.executable, str(generator), "--orders", str(orders), "--seed",
                    str(seed), "--out", str(raw)], check=True, cwd=reference)
    stamp.write_text(key)
    return raw


def commands(tool: str, reference: Path, raw: Path, work: Path) -> tuple[list[str], dict[str, str]]:
    """The command that runs `tool` over `raw`, and its environment; wipes its output first."""
    env = dict(os.environ)
    out = work / "out" / tool
    if tool == "afluente":
        project = work / "afluente"
        shutil.rmtree(project, ignore_errors=True)
        shutil.copytree(PROJECT, project)
        env["REFERENCE_RAW"] = str(raw)
        return [afluente_cli(), "-p", str(project), "--json", "run"], env
    shutil.rmtree(out, ignore_errors=True)
    if tool == "duckdb":
        return [sys.executable, str(reference / "impl_duckdb_parquet.py"), "--raw", str(raw),
                "--out", str(out)], env
    if tool == "polars":
        return [sys.executable, str(reference / "impl_polars.py"), "--raw", str(raw),
                "--out", str(out)], env
    if tool == "dbt":
        env["PATH"] = f"{DBT_VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["PERF_DATA"] = str(work / "dbt_state")
        return ["sh", str(reference / "impl_dbt.sh"), str(raw), str(out)], env
    raise SystemExit(f"unknown tool {tool!r}; choose from {', '.join(TOOLS)}")


def afluente_layout(work: Path, project: Path | None = None, out: Path | None = None) -> Path:
    """afluente's tables under the names and layout `verify.py` reads: a link per Delta table,
    and the quarantine as `_reject_reason` = the first rule a row failed (the expectations
    are declared in the reference's rule order). Default: the project and output in `work`."""
    import duckdb
    from deltalake import DeltaTable

    warehouse = (project or work / "afluente") / "warehouse"
    out = out or work / "out" / "afluente"
    shutil.rmtree(out, ignore_errors=True)
    for name, (layer, table) in TABLES.items():
        (out / layer).mkdir(parents=True, exist_ok=True)
        (out / layer / name).symlink_to(warehouse / layer / table)
    quarantine = DeltaTable(str(warehouse / "silver" / "orders__quarantine")).to_pyarrow_table()
    con = duckdb.connect()
    con.register("q", quarantine)
    target = out / "silver" / "quarantine_orders.parquet"
    con.execute(f"COPY (SELECT _rules[1] AS _reject_reason, _row FROM q) TO '{target}'")
    return out


def verify(reference: Path, work: Path, tools: list[str]) -> dict[str, Any]:
    outputs = {"duckdb": work / "out" / "duckdb", "polars": work / "out" / "polars",
               "dbt": work / "out" / "dbt" / "dbt.duckdb"}
    others = [str(afluente_layout(work)) if t == "afluente" else str(outputs[t])
              for t in tools if t != "duckdb"]
    checked = subprocess.run(
        [sys.executable, str(reference / "verify.py"), str(outputs["duckdb"]), *others],
        cwd=reference, capture_output=True, text=True, check=False,
    )
    return {"match": checked.returncode == 0, "output": checked.stdout + checked.stderr}


def cpu(m: Measurement) -> float:
    return m.user_s + m.sys_s


def summarise(runs: dict[str, list[Measurement]]) -> dict[str, Any]:
    tools: dict[str, Any] = {}
    for tool, measured in runs.items():
        tools[tool] = {
            "wall_median_s": round(statistics.median(m.wall_s for m in measured), 2),
            "cpu_median_s": round(statistics.median(cpu(m) for m in measured), 2),
            "peak_rss_median_mib": round(statistics.median(m.peak_rss_mib for m in measured), 1),
        }
    mine = runs.get("afluente", [])
    for tool, measured in runs.items():
        if tool == "afluente" or not mine:
            continue
        pairs = list(zip(mine, measured, strict=True))
        tools[tool]["afluente_ratio"] = {
            "wall": round(statistics.median(a.wall_s / b.wall_s for a, b in pairs), 2),
            "cpu": round(statistics.median(cpu(a) / cpu(b) for a, b in pairs), 2),
            "peak_rss": round(statistics.median(a.peak_rss_mib / b.peak_rss_mib
                                                for a, b in pairs), 2),
        }
    return tools


def per_model(measurement: Measurement) -> dict[str, float]:
    """afluente's own per-table durations (its `--json` run report), when it printed them."""
    try:
        report = json.loads(measurement.stdout_tail)
    except json.JSONDecodeError:
        return {}
    return {m["table"]: m.get("duration_s", 0.0) for m in report.get("models", [])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help="comma-separated, from: " + ", ".join(TOOLS))
    parser.add_argument("--reference", type=Path,
                        default=REPO_ROOT.parent / "shared" / "perf-reference")
    parser.add_argument("--wait-idle", type=float, default=600.0)
    args = parser.parse_args()
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    if "duckdb" not in tools:
        tools.append("duckdb")  # the reference every other output is verified against
    reference = args.reference.resolve()
    if not (reference / "PIPELINE.md").exists():
        raise SystemExit(f"no reference pipeline at {reference} (pass --reference)")
    if "dbt" in tools:
        subprocess.run(["bash", str(BENCH_DIR / "ensure-dbt.sh")], check=True)

    raw = landing_zone(reference, args.orders, args.seed)
    work = DATA_DIR / f"reference_{args.orders}"
    runs: dict[str, list[Measurement]] = {t: [] for t in tools}
    busy: list[float] = []
    models: list[dict[str, float]] = []
    for repetition in range(args.repeat):
        order = tools[repetition % len(tools):] + tools[: repetition % len(tools)]
        for tool in order:
            busy.append(round(wait_for_idle(args.wait_idle), 3))
            command, env = commands(tool, reference, raw, work)
            measured = measure(command, cwd=reference, env=env, stdout_limit=200_000)
            runs[tool].append(measured)
            if tool == "afluente":
                models.append(per_model(measured))
            print(f"rep {repetition + 1} {tool:9s} wall {measured.wall_s:7.2f} s  "
                  f"cpu {cpu(measured):7.2f} s  rss {measured.peak_rss_mib:7.0f} MiB", flush=True)
            measured.stdout_tail = measured.stdout_tail[-2000:]

    checked = verify(reference, work, tools)
    summary = summarise(runs)
    print(checked["output"])
    print(json.dumps(summary, indent=2))
    path = write_result(f"reference_pipeline_{args.orders}", {
        "environment": environment(),
        "orders": args.orders,
        "repeat": args.repeat,
        "busy_before_each_run": busy,
        "content_verified": checked,
        "summary": summary,
        "afluente_model_seconds": models,
        "runs": {t: [vars(m) for m in ms] for t, ms in runs.items()},
    })
    print(f"results: {path}")
    return 0 if checked["match"] else 1


if __name__ == "__main__":
    sys.exit(main())
