"""Where one `afluente run` spends its time: py-spy samples of every Python thread, summarised.

Runs a benchmark of `compare_revisions.py` (`demo` or `reference`) on one revision, once
untimed (bytecode and page caches), then from a fresh warehouse under `py-spy record --format
raw`, and prints: the run's stages and per-model seconds from its state store, the main
thread's samples by phase, the afluente functions with the most samples (inclusive: the
function or anything it called, DuckDB and delta-rs included while they run on that Python
thread), and the leaf functions (self time). Seconds = samples / rate, summed
over threads, so with 4 workers they can exceed the wall time.

    python bench/profile_run.py --bench reference --orders 1000000 --rev 9925915

py-spy comes from its own virtualenv (`bench/.data/venv-pyspy`, made on first use with pip);
it samples from outside the process, so the profiled run is not slowed the way cProfile
slows it. Threads DuckDB starts itself are not Python threads and are not sampled.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare_revisions
from _common import DATA_DIR, REPO_ROOT, measure
from run_stages import run_stages

PYSPY_VENV = DATA_DIR / "venv-pyspy"
FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def pyspy() -> Path:
    binary = PYSPY_VENV / "bin" / "py-spy"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PYSPY_VENV)], check=True)
        subprocess.run([str(PYSPY_VENV / "bin" / "pip"), "install", "-q", "py-spy"], check=True)
    return binary


def frame_name(frame: str) -> str:
    """`function (path/afluente/x/y.py:12)` → `afluente.x.y:function`; other frames kept short."""
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path, func = match["file"], match["func"]
    if path.startswith("afluente/") or "/afluente/" in path:
        module = ("/" + path).split("/afluente/", 1)[1].removesuffix(".py").replace("/", ".")
        return f"afluente.{module}:{func}"
    return f"{Path(path).name}:{func}"


# main-thread phases, first match wins (a function name anywhere in the stack)
PHASES = (
    ("post-run observability", ("runner:_observe",)),
    ("models (main thread)", ("Executor.execute",)),
    ("project load", ("load_graph", "load_project")),
    ("observe + plan", ("runner:_plan", "observe:observe")),
    ("imports", ("importlib",)),
)


def phase(frames: list[str]) -> str:
    for name, markers in PHASES:
        if any(marker in frame for frame in frames for marker in markers):
            return name
    return "other"


def summarise(folded: Path, rate: int, top: int) -> dict[str, list[tuple[str, float]]]:
    inclusive: collections.Counter[str] = collections.Counter()
    leaf: collections.Counter[str] = collections.Counter()
    main: collections.Counter[str] = collections.Counter()
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        parts = stack.split(";")
        frames = [frame_name(f) for f in parts if not f.startswith("thread (")]
        for name in {f for f in frames if f.startswith("afluente.")}:
            inclusive[name] += int(count)
        if frames:
            leaf[frames[-1]] += int(count)
        if parts[0].endswith("MainThread"):
            main[phase(frames)] += int(count)

    def seconds(counter: collections.Counter[str], n: int) -> list[tuple[str, float]]:
        return [(name, round(samples / rate, 2)) for name, samples in counter.most_common(n)]

    return {"main_thread_phases": seconds(main, len(PHASES) + 1),
            "inclusive_afluente": seconds(inclusive, top), "leaf": seconds(leaf, top)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", default="reference", choices=("demo", "reference"))
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--rev", default="HEAD", help="revision to profile (or 'worktree')")
    parser.add_argument("--rate", type=int, default=50, help="samples per second")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--reference", type=Path,
                        default=REPO_ROOT.parent / "shared" / "perf-reference")
    args = parser.parse_args()
    compare_revisions.WORK_DIR = DATA_DIR / "profile"  # never the folders a comparison uses
    side = compare_revisions.export("P", args.rev)
    compare_revisions.check_import(side)
    load = compare_revisions.workload(args.bench, args.orders, args.reference.resolve())
    project = load.prepare(side)
    argv, env = load.command(side, project)
    for warm in (True, False):  # an untimed run first: bytecode caches, page cache
        shutil.rmtree(project / "warehouse", ignore_errors=True)
        shutil.rmtree(project / ".afluente", ignore_errors=True)
        if warm:
            measure(argv, env=env, cwd=project, stdout_limit=1000)
    folded = project.parent / f"{side.key}.pyspy.txt"
    launched = time.time()
    measured = measure([str(pyspy()), "record", "--format", "raw", "--rate", str(args.rate),
                        "--threads", "--nonblocking", "-o", str(folded), "--", *argv],
                       env=env, cwd=project, stdout_limit=2_000_000)
    report: dict[str, Any] = {"command": argv, "wall_s": measured.wall_s,
              "cpu_s": round(measured.user_s + measured.sys_s, 2),
              "stages": run_stages(project, launched, measured),
              **summarise(folded, args.rate, args.top)}
    (project.parent / f"{side.key}.summary.json").write_text(json.dumps(report, indent=1))
    stages = report["stages"]
    print(f"wall {measured.wall_s:.2f} s, CPU {report['cpu_s']} s; stages: " + ", ".join(
        f"{k} {v}" for k, v in stages.items() if k.endswith("_s")))
    for model, secs in sorted(stages.get("models", {}).items(), key=lambda kv: -kv[1]):
        print(f"  model {model:<40} {secs:7.2f} s")
    for title in ("main_thread_phases", "inclusive_afluente", "leaf"):
        print(f"\n{title} (active samples / rate, s):")
        for name, secs in report[title]:
            print(f"  {secs:7.2f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
