"""`afluente forget` on the demo against a full rebuild (issue 15, RESULTS §24).

For `--orders N` the demo is generated and built once; then each pair measures, in child
processes, alternating: `afluente run` from scratch (warehouse and state removed: the full
rebuild an erasure without `forget` would need, after deleting the subject at the source),
and `afluente forget --subject cpf=...` on a fresh copy of the built project (a different
customer each time). Medians go to `bench/results/forget_<N>.json`.

    PYTHONPATH=src python bench/forget.py --orders 200000 --pairs 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA_DIR, REPO_ROOT, environment, measure, write_result

from afluente.config import load_project
from afluente.demo.build import prepare_demo
from afluente.model import TableRef
from afluente.storage import Warehouse

CLI = [sys.executable, "-m", "afluente.cli"]
ENV = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}


def _subjects(root: Path, count: int) -> list[str]:
    customers = Warehouse(load_project(root).warehouse_uri).dataset(
        TableRef("silver", "customers")).to_table(columns=["cpf"])
    cpfs = sorted(c for c in customers["cpf"].to_pylist() if c)
    step = max(1, len(cpfs) // (count + 1))
    return cpfs[step::step][:count]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    base = DATA_DIR / f"forget_{args.orders}"
    built = base / "built"
    if not (built / "warehouse").exists():
        prepare_demo(built, orders=args.orders, seed=42)
        measure([*CLI, "-p", str(built), "run"], env=ENV)
    rebuild, forget = [], []
    for cpf in _subjects(built, args.pairs):
        scratch = base / "scratch"
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(built, scratch, ignore=shutil.ignore_patterns("warehouse", ".afluente"))
        rebuild.append(measure([*CLI, "-p", str(scratch), "run"], env=ENV).wall_s)
        shutil.rmtree(scratch)
        shutil.copytree(built, scratch)
        forget.append(measure([*CLI, "-p", str(scratch), "forget", "--subject", f"cpf={cpf}"],
                              env=ENV).wall_s)
        print(f"rebuild {rebuild[-1]:.1f}s  forget {forget[-1]:.1f}s", flush=True)
    result = {"orders": args.orders, "rebuild_s": rebuild, "forget_s": forget,
              "rebuild_median_s": statistics.median(rebuild),
              "forget_median_s": statistics.median(forget), "environment": environment()}
    write_result(f"forget_{args.orders}", result)
    print(f"median: rebuild {result['rebuild_median_s']:.1f}s, "
          f"forget {result['forget_median_s']:.1f}s")


if __name__ == "__main__":
    main()
