"""Data environments (docs/environments.md), two figures for RESULTS §41:

1. `afluente plan --env dev` on a generated 1,000-model project built once, one silver model
   changed: alternated with the plain `afluente plan` (paired), medians of each (goal: < 1 s).
2. Creating a dev environment on the demo (`--orders`, 1,000,000 by default) copies no data
   file: the warehouse's Parquet files are counted before and after `plan --env dev`, and
   after `run --env dev` of one changed silver model (only its own tables are new files;
   prod's files and Delta versions are unchanged).

    python bench/environments.py --models 1000 --orders 1000000 --repeat 7
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA_DIR, Series, afluente_cli, environment, measure, write_result
from demo_pipeline import prepare
from paired_stats import paired_ratio
from plan_validate import generate_project

GOAL_S = 1.0


def _change_a_silver_model(models: Path) -> str:
    """Add a column to the first silver model that is not a staging model."""
    for path in sorted((models / "silver").glob("*.sql")):
        text = path.read_text()
        if "SELECT id, k, amount, name FROM ranked" in text:
            path.write_text(text.replace("SELECT id, k, amount, name FROM ranked",
                                         "SELECT id, k, amount, name, 1 AS added FROM ranked"))
            return path.stem
    raise SystemExit("no silver model to change")


def plan_figure(root: Path, models: int, repeat: int, reuse: bool) -> dict[str, Any]:
    """`reuse`: the project of an earlier run, built and changed (its marker file says
    which model), is timed again as it is."""
    cli = afluente_cli()
    marker = root / ".bench_env_changed"
    if reuse and marker.is_file():
        counts, built_s, changed = {"models": models}, None, marker.read_text().strip()
    else:
        counts = generate_project(root, models)
        started = time.perf_counter()
        measure([cli, "-p", str(root), "run"], timeout_s=7200)
        built_s = round(time.perf_counter() - started, 1)
        changed = _change_a_silver_model(root / "models")
        marker.write_text(changed)
    plain, env = Series("plan"), Series("plan --env dev")
    measure([cli, "-p", str(root), "plan", "--env", "dev"], timeout_s=600)  # warm caches
    for _ in range(repeat):  # alternating: both see the same load
        plain.runs.append(measure([cli, "-p", str(root), "plan"], timeout_s=600))
        env.runs.append(measure([cli, "-p", str(root), "plan", "--env", "dev"], timeout_s=600))
    ratio = paired_ratio([m.wall_s for m in plain.runs], [m.wall_s for m in env.runs])
    return {"project": counts, "first_build_s": built_s, "changed": f"silver.{changed}",
            "plan": plain.summary(), "plan_env": env.summary(),
            "env_over_plain": {**asdict(ratio), "verdict": ratio.verdict()}}


def _files(warehouse: Path) -> dict[str, int]:
    parquet = list(warehouse.rglob("*.parquet"))
    inside = [p for p in parquet if "_environments" in p.parts]
    return {"parquet_files": len(parquet), "in_environments": len(inside),
            "bytes_in_environments": sum(p.stat().st_size for p in inside)}


def _prod_versions(warehouse: Path) -> dict[str, int]:
    found = {}
    for log in warehouse.glob("*/*/_delta_log"):
        found[f"{log.parent.parent.name}.{log.parent.name}"] = len(list(log.glob("*.json")))
    return found


def demo_figure(root: Path, orders: int) -> dict[str, Any]:
    cli = afluente_cli()
    landing = prepare(root, orders, seed=42, regenerate=False)
    warehouse = root / "warehouse"
    started = time.perf_counter()
    measure([cli, "-p", str(root), "run"], timeout_s=7200)
    built_s = round(time.perf_counter() - started, 1)
    model = root / "models" / "silver" / "sellers.sql"
    text = model.read_text()
    if "AS env_marker" not in text:  # a column added: non-breaking, only sellers is built
        model.write_text(text.replace("    typed.created_at\nFROM typed",
                                      "    typed.created_at,\n    1 AS env_marker\nFROM typed"))
    before, versions = _files(warehouse), _prod_versions(warehouse)
    plan = measure([cli, "-p", str(root), "--json", "plan", "--env", "dev"], timeout_s=600)
    after_plan = _files(warehouse)
    run = measure([cli, "-p", str(root), "run", "--env", "dev"], timeout_s=3600, check=False)
    after_run = _files(warehouse)
    return {"orders": orders, "landing_mib": landing.get("landing_mib"),
            "first_build_s": built_s, "files_before": before, "files_after_plan": after_plan,
            "files_after_run": after_run, "plan_env_s": round(plan.wall_s, 2),
            "run_env_s": round(run.wall_s, 2), "run_env_rc": run.returncode,
            "prod_versions_unchanged": _prod_versions(warehouse) == versions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--skip-plan", action="store_true")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--reuse", action="store_true",
                        help="time the 1,000-model project of an earlier run again")
    args = parser.parse_args(argv)
    if not args.skip_plan:
        plan = plan_figure(DATA_DIR / f"env_plan_{args.models}", args.models, args.repeat,
                           args.reuse)
        print(f"plan --env dev, {args.models} models: median "
              f"{plan['plan_env']['wall_median_s']} s (plain plan "
              f"{plan['plan']['wall_median_s']} s); env/plain "
              f"{plan['env_over_plain']['median']:.2f} ({plan['env_over_plain']['verdict']})",
              flush=True)
        print(write_result("environments_plan", {"environment": environment(),
                                                 "goal_s": GOAL_S, **plan}))
    if not args.skip_demo:
        demo = demo_figure(DATA_DIR / f"env_demo_{args.orders}", args.orders)
        print(f"demo {args.orders:,}: {demo}", flush=True)
        print(write_result("environments_demo", {"environment": environment(), **demo}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
