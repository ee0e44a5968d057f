"""CLI start-up: CPU and wall time of short commands on the demo project.

Each command runs as its own process, the commands alternating (one of each, then again),
so a slow spell of the machine hits all of them alike. The report gives the median user+sys
CPU (from `wait4`) and the median wall time of each. See bench/README.md and RESULTS.md §9.

    .venv/bin/python bench/startup.py --repeat 15
    .venv/bin/python bench/startup.py --source before=/tmp/old/src --source after=src

With `--source LABEL=DIR` (repeatable) each command also alternates between source trees
(PYTHONPATH=DIR), which compares two commits on the same machine in the same minutes.

Each source tree is byte-compiled first, as `pip install` does: with PYTHONDONTWRITEBYTECODE
set (or a read-only tree) every call would otherwise compile afluente's modules from source,
about 0.08 s of CPU that no installed afluente pays (RESULTS.md §15).
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import statistics
import sys
from pathlib import Path
from typing import Any

from _common import DATA_DIR, Measurement, environment, measure, wait_for_idle, write_result

QUERY = "select count(*) from gold.fct_orders"
COMMANDS: dict[str, list[str]] = {
    "python -c pass": [],  # the interpreter alone: the floor under every figure
    "--help": ["--help"],
    "runs": ["runs"],
    "query": ["query", QUERY],
    "query select 1": ["query", "select 1"],  # reads no table: the floor of `query`
    "show": ["show", "gold.dim_seller"],
    "plan": ["plan"],
}


def prepare(orders: int) -> Path:
    """The demo project, built once per --orders and reused."""
    project = DATA_DIR / f"startup_demo_{orders}"
    if not (project / "warehouse").exists():
        measure([sys.executable, "-m", "afluente", "demo", "--dir", str(project),
                 "--orders", str(orders)], timeout_s=900)
    return project


def argv(name: str, project: Path) -> list[str]:
    if name == "python -c pass":
        return [sys.executable, "-c", "pass"]
    return [sys.executable, "-m", "afluente", "-p", str(project), *COMMANDS[name]]


def run(name: str, project: Path, source: str | None) -> Measurement:
    env = dict(os.environ, PYTHONPATH=source) if source else None
    return measure(argv(name, project), timeout_s=120, env=env)


def byte_compile(sources: dict[str, str | None]) -> None:
    """Write the .pyc files of each tree (the installed afluente when no --source)."""
    for source in sources.values():
        if source is None:
            spec = importlib.util.find_spec("afluente")
            assert spec is not None and spec.submodule_search_locations
            source = str(Path(next(iter(spec.submodule_search_locations))).parent)
        compileall.compile_dir(source, quiet=1)


def cpu(m: Measurement) -> float:
    return m.user_s + m.sys_s


def summary(runs: list[Measurement]) -> dict[str, Any]:
    return {
        "n": len(runs),
        "cpu_median_s": round(statistics.median(cpu(m) for m in runs), 3),
        "cpu_min_s": round(min(cpu(m) for m in runs), 3),
        "wall_median_s": round(statistics.median(m.wall_s for m in runs), 3),
        "wall_min_s": round(min(m.wall_s for m in runs), 3),
        "command": " ".join(runs[0].command),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command")
    parser.add_argument("--orders", type=int, default=2000, help="size of the demo project")
    parser.add_argument("--wait-idle", type=float, default=600, help="max seconds to wait")
    parser.add_argument("--name", default="startup", help="results/<name>.json")
    parser.add_argument("--source", action="append", default=[], metavar="LABEL=DIR",
                        help="also alternate between these source trees (PYTHONPATH)")
    args = parser.parse_args()
    sources = dict(s.split("=", 1) for s in args.source) or {"": None}
    project = prepare(args.orders)
    byte_compile(sources)
    busy = wait_for_idle(args.wait_idle)
    keys = [(label, name) for name in COMMANDS for label in sources]
    runs: dict[tuple[str, str], list[Measurement]] = {key: [] for key in keys}
    for _ in range(args.repeat):
        for label, name in keys:
            runs[(label, name)].append(run(name, project, sources[label]))
    results = {f"{label} {name}".strip(): summary(runs[(label, name)]) for label, name in keys}
    print(f"{'command':<24} {'CPU median':>11} {'CPU min':>8} {'wall median':>12}")
    for key, r in results.items():
        print(f"{key:<24} {r['cpu_median_s']:>10.3f}s {r['cpu_min_s']:>7.3f}s "
              f"{r['wall_median_s']:>11.3f}s")
    payload = {"environment": environment(), "busy_before": busy, "repeat": args.repeat,
               "orders": args.orders, "sources": sources, "results": results,
               "runs": {f"{label} {name}".strip(): [vars(m) for m in runs[(label, name)]]
                        for label, name in keys}}
    print(f"written {write_result(args.name, payload)}")


if __name__ == "__main__":
    main()
