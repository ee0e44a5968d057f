"""Dashboards (issue 16, RESULTS §38): `afluente dashboard export revenue` on a built demo,
all states and one state (`--filter uf=SP`) measured in alternation, and each panel's query
in-process, so the two are compared at the same moments of a shared machine.

    PYTHONPATH=src python bench/dashboard_export.py --project /path/to/demo --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import afluente_cli, environment, measure, write_result

from afluente.config import load_project
from afluente.dashboards import find_dashboard
from afluente.dashboards.filters import filter_values
from afluente.dashboards.panel_data import panel_data

VARIANTS = {"all states": [], "uf=SP": ["--filter", "uf=SP"]}


def quartiles(values: list[float]) -> str:
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return f"{median:.2f} ({q1:.2f}-{q3:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--project", type=Path, required=True, help="A built demo.")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    env = environment()
    walls: dict[str, list[float]] = {name: [] for name in VARIANTS}
    sizes: dict[str, int] = {}
    panels: dict[str, list[float]] = {}
    project = load_project(args.project)
    dashboard = find_dashboard(project, "revenue")
    values = filter_values(dashboard, {})
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.repeat):
            for name, extra in VARIANTS.items():  # alternating: a slow spell hits both
                out = Path(scratch) / f"{name.replace(' ', '_')}.html"
                done = measure([afluente_cli(), "-p", str(args.project), "dashboard",
                                "export", "revenue", "--out", str(out), *extra])
                walls[name].append(done.wall_s)
                sizes[name] = out.stat().st_size
            for panel in dashboard.panels:
                start = time.perf_counter()
                panel_data(project, dashboard, panel, values)
                panels.setdefault(panel, []).append(time.perf_counter() - start)
    load_end = list(os.getloadavg())
    print(f"load at start {env['load_average_at_start']}, at end {load_end}")
    for name, runs in walls.items():
        print(f"export {name}: {quartiles(runs)} s, {sizes[name] / 1024:.0f} KiB")
    for panel, runs in panels.items():
        print(f"panel {panel}: {quartiles([r * 1000 for r in runs])} ms")
    write_result("dashboard_export", {**env, "load_average_at_end": load_end,
                                      "export_s": walls, "bytes": sizes,
                                      "panel_s": panels})


if __name__ == "__main__":
    main()
