"""The post-run observability pass alone: CPU, wall and peak memory of `collect_metrics`
(Delta log reads and the column profile of every table) on a project that was already run.

Each measurement is a child process that loads the project and measures every materialized
table at its latest version, as the pass after a run that wrote them all does; source trees
alternate run by run (`--source LABEL=DIR`, PYTHONPATH), so the machine's load hits them
alike. The children's profiles are compared: rows, null rates and means must be equal and
distinct counts within 0.5 % (the bound docs/observability.md states). See RESULTS.md §13.

    .venv/bin/python bench/profile_pass.py --project DIR --env REFERENCE_RAW=... \\
        --source before=/tmp/main/src --source after=src --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import Measurement, environment, measure, wait_for_idle, write_result


def child(project_dir: str, out: str) -> None:
    """Run in the child: the metrics pass over every built table of the project."""
    from dataclasses import dataclass, field

    from afluente.config import load_project
    from afluente.engines import project_engine
    from afluente.model import TableRef, load_graph
    from afluente.observability.metrics import collect_metrics
    from afluente.storage import Warehouse

    @dataclass(frozen=True)
    class Outcome:
        ref: TableRef
        version: int
        status: str = "success"
        duration_s: float = 0.0
        rows: int | None = None
        versions_read: dict[str, int] = field(default_factory=dict)

    project = load_project(Path(project_dir))
    graph = load_graph(project)
    warehouse = Warehouse(project.warehouse_uri)
    outcomes = []
    for ref in graph.order:
        version = warehouse.version(ref) if graph[ref].materialized else None
        if version is not None:
            outcomes.append(Outcome(ref, version))
    rows = collect_metrics(warehouse, graph, "bench", datetime.now(UTC), outcomes,
                           new_engine=lambda: project_engine(project))
    Path(out).write_text(json.dumps({r.model: r.profile for r in rows}))


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Differences between two runs' profiles: exact fields and distinct counts."""
    worst = 0.0
    unequal: list[str] = []
    for table, columns in a.items():
        for column, stats in columns.items():
            other = b.get(table, {}).get(column, {})
            for key in ("rows", "null_rate", "mean"):
                x, y = stats.get(key), other.get(key)
                if x != y and not (x is not None and y is not None and abs(x - y) <= 1e-9 * max(
                        abs(x), 1)):
                    unequal.append(f"{table}.{column}.{key}: {x} != {y}")
            x, y = stats.get("distinct"), other.get("distinct")
            if x and y is not None:
                worst = max(worst, abs(x - y) / x)
    return {"max_distinct_rel_diff": round(worst, 5), "unequal": unequal[:20]}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--project", required=True, help="a project that was already run")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="environment of the children (e.g. REFERENCE_RAW=...)")
    parser.add_argument("--source", action="append", default=[], metavar="LABEL=DIR")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--wait-idle", type=float, default=0)
    parser.add_argument("--name", default="profile_pass")
    args = parser.parse_args()
    sources = dict(s.split("=", 1) for s in args.source) or {"current": ""}
    extra = dict(e.split("=", 1) for e in args.env)
    busy = wait_for_idle(args.wait_idle) if args.wait_idle else None
    runs: dict[str, list[Measurement]] = {label: [] for label in sources}
    profiles: dict[str, dict[str, Any]] = {}
    loads: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for label, src in (list(sources.items()) if i % 2 == 0
                               else list(reversed(sources.items()))):
                out = f"{tmp}/{label}.json"
                env = dict(os.environ, **extra)
                if src:
                    env["PYTHONPATH"] = src
                loads.append(os.getloadavg()[0])
                runs[label].append(measure(
                    [sys.executable, __file__, "--child", args.project, out], env=env,
                    timeout_s=1800))
                profiles[label] = json.loads(Path(out).read_text())
    results = {
        label: {
            "cpu_median_s": round(statistics.median(m.user_s + m.sys_s for m in ms), 2),
            "cpu_runs_s": [round(m.user_s + m.sys_s, 2) for m in ms],
            "wall_median_s": round(statistics.median(m.wall_s for m in ms), 2),
            "rss_median_mib": round(statistics.median(m.peak_rss_mib for m in ms)),
        }
        for label, ms in runs.items()
    }
    labels = list(sources)
    content = compare(profiles[labels[0]], profiles[labels[-1]]) if len(labels) > 1 else {}
    print(f"{'source':<10} {'CPU median':>11} {'wall median':>12} {'peak RSS':>9}  CPU runs")
    for label, r in results.items():
        print(f"{label:<10} {r['cpu_median_s']:>10.2f}s {r['wall_median_s']:>11.2f}s "
              f"{r['rss_median_mib']:>6} MiB  {r['cpu_runs_s']}")
    print(f"load average (1 min) before the runs: {min(loads):.1f}-{max(loads):.1f}")
    if content:
        print(f"content: {content}")
    payload = {"environment": environment(), "busy_before": busy, "loads": loads,
               "project": args.project, "sources": sources, "results": results,
               "content": content,
               "runs": {label: [vars(m) for m in ms] for label, ms in runs.items()}}
    print(f"written {write_result(args.name, payload)}")


if __name__ == "__main__":
    main()
