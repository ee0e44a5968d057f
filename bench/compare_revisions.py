"""Two git revisions of afluente side by side: the same benchmark, alternating A B A B ...

Each revision's `src/` is exported with `git archive` to `bench/.data/revs/<sha>/src` (the
working tree, the default B, is copied to `bench/.data/revs/worktree/src`); nothing is checked
out or stashed. Both sides run on the same virtualenv and the same input data, each with
`PYTHONPATH=<rev>/src` (checked: the child must import afluente from there). After one
untimed warm-up of each side, `--pairs` pairs run A then B, every run a child process.

Reported per side: median and IQR of wall time, user+sys CPU of the child tree (`wait4`) and
peak RSS (GNU `time`); per metric the median of the paired ratios B/A with a 95 % bootstrap
interval and a sign test. For `afluente run` workloads the state store of each run gives the
stages (start-up before the run row, the run itself, the post-run observability pass and
exit) and every model's seconds, so a difference can be placed. The 1-minute load average
before each run and the CPU busy share before each pair are recorded: the machine is shared.

    python bench/compare_revisions.py --base c67f130 --new 9925915 --bench demo --orders 1000000
    python bench/compare_revisions.py --base main --bench reference --orders 1000000 --pairs 6
    python bench/compare_revisions.py --base main --bench startup:runs --pairs 15

Markdown for RESULTS.md goes to stdout; every run to `bench/results/compare_*.json`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    DATA_DIR,
    REPO_ROOT,
    Measurement,
    cpu_busy_fraction,
    environment,
    measure,
    wait_for_idle,
    write_result,
)
from run_stages import run_stages

REVS_DIR = DATA_DIR / "revs"
WORK_DIR = DATA_DIR / "compare"
WORKTREE = "worktree"
STARTUP_ORDERS = 2000


@dataclass
class Side:
    """One revision under test: its name as given, its commit and its exported `src/`."""

    label: str  # "A" or "B"
    rev: str
    sha: str  # full commit, or "worktree"
    src: Path
    runs: list[Measurement] = field(default_factory=list)
    stages: list[dict[str, Any]] = field(default_factory=list)
    load: list[float] = field(default_factory=list)
    tables: dict[str, Any] = field(default_factory=dict)  # the last run's rows per table

    @property
    def key(self) -> str:
        return self.sha[:12]

    def env(self, **extra: str) -> dict[str, str]:
        return dict(os.environ, PYTHONPATH=str(self.src), **extra)


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, check=False)


def resolve(rev: str) -> str:
    """The full commit of `rev`, or a clear stop naming the revision and what to give."""
    found = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if found.returncode != 0:
        raise SystemExit(f"compare_revisions: git cannot resolve revision {rev!r} in {REPO_ROOT}; "
                         f"give a commit, branch or tag (see `git log --oneline`)")
    return found.stdout.decode().strip()


def export(label: str, rev: str) -> Side:
    """`rev`'s src/ under bench/.data/revs/<sha>/ (git archive, kept); the working tree copied."""
    if rev == WORKTREE:
        target = REVS_DIR / WORKTREE
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(REPO_ROOT / "src", target / "src",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        return Side(label, rev, WORKTREE, target / "src")
    sha = resolve(rev)
    target = REVS_DIR / sha
    done = target / ".exported"
    if not done.exists():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        archive = _git("archive", "--format=tar", sha, "src")
        if archive.returncode != 0:
            raise SystemExit(f"compare_revisions: git archive of {rev} ({sha[:12]}) failed: "
                             f"{archive.stderr.decode().strip()}")
        archive_path = target / "src.tar"
        archive_path.write_bytes(archive.stdout)
        with tarfile.open(archive_path) as tar:
            tar.extractall(target, filter="data")
        archive_path.unlink()
        done.write_text(sha + "\n")
    return Side(label, rev, sha, target / "src")


def check_import(side: Side) -> None:
    """The child must import afluente from the side's own tree, not the editable install."""
    probe = subprocess.run([sys.executable, "-c", "import afluente; print(afluente.__file__)"],
                           env=side.env(), capture_output=True, text=True, check=False)
    where = Path(probe.stdout.strip() or "?").resolve()
    if probe.returncode != 0 or side.src.resolve() not in where.parents:
        raise SystemExit(f"compare_revisions: side {side.label} ({side.rev}) imports afluente from "
                         f"{where}, not from {side.src}: {probe.stderr.strip()[-500:]} "
                         f"(is afluente installed non-editable in {sys.prefix}?)")


# -- workloads: how to lay out a side's project, the command, what to check ------------------


@dataclass
class Workload:
    """A benchmark both sides run: set up once per side, wiped before each run."""

    name: str
    prepare: Callable[[Side], Path]  # the side's project folder
    command: Callable[[Side, Path], tuple[list[str], dict[str, str]]]
    fresh_warehouse: bool  # wipe warehouse/ and .afluente/ before each run


def _afluente_run(side: Side, project: Path, **env: str) -> tuple[list[str], dict[str, str]]:
    return [sys.executable, "-m", "afluente", "-p", str(project), "--json", "run"], side.env(**env)


def demo_workload(orders: int) -> Workload:
    from demo_pipeline import prepare as prepare_landing

    shared = DATA_DIR / f"demo_{orders}"
    shared.mkdir(parents=True, exist_ok=True)
    prepare_landing(shared, orders, 42, False)

    def prepare(side: Side) -> Path:
        project = WORK_DIR / f"demo_{orders}" / side.key
        project.mkdir(parents=True, exist_ok=True)
        if not (project / "landing").exists():
            (project / "landing").symlink_to(shared / "landing")
        template = side.src / "afluente" / "demo" / "project"
        shutil.copyfile(template / "afluente.yml", project / "afluente.yml")
        for folder in ("models", "tests"):
            shutil.rmtree(project / folder, ignore_errors=True)
            if (template / folder).is_dir():
                shutil.copytree(template / folder, project / folder)
        return project

    return Workload(f"demo pipeline, {orders:,} orders", prepare, _afluente_run, True)


def reference_workload(orders: int, reference: Path) -> Workload:
    from reference_pipeline import PROJECT, landing_zone

    raw = landing_zone(reference, orders, 42)

    def prepare(side: Side) -> Path:
        project = WORK_DIR / f"reference_{orders}" / side.key
        shutil.rmtree(project, ignore_errors=True)
        shutil.copytree(PROJECT, project)
        return project

    def command(side: Side, project: Path) -> tuple[list[str], dict[str, str]]:
        return _afluente_run(side, project, REFERENCE_RAW=str(raw))

    return Workload(f"reference pipeline, {orders:,} orders", prepare, command, True)


def startup_workload(name: str) -> Workload:
    from startup import COMMANDS

    if name not in COMMANDS or name == "python -c pass":
        choices = ", ".join(f"startup:{c}" for c in COMMANDS if c != "python -c pass")
        raise SystemExit(f"compare_revisions: unknown start-up command {name!r}; choose {choices}")

    def prepare(side: Side) -> Path:
        project = WORK_DIR / f"startup_{STARTUP_ORDERS}" / side.key
        if not (project / "warehouse").exists():
            shutil.rmtree(project, ignore_errors=True)
            measure([sys.executable, "-m", "afluente", "demo", "--dir", str(project),
                     "--orders", str(STARTUP_ORDERS)], env=side.env(), timeout_s=900)
        return project

    def command(side: Side, project: Path) -> tuple[list[str], dict[str, str]]:
        return [sys.executable, "-m", "afluente", "-p", str(project), *COMMANDS[name]], side.env()

    return Workload(f"`afluente {' '.join(COMMANDS[name])}` on the demo at "
                    f"{STARTUP_ORDERS:,} orders", prepare, command, False)


def workload(bench: str, orders: int, reference: Path) -> Workload:
    if bench == "demo":
        return demo_workload(orders)
    if bench == "reference":
        return reference_workload(orders, reference)
    if bench.startswith("startup:"):
        return startup_workload(bench.split(":", 1)[1])
    raise SystemExit(f"compare_revisions: unknown benchmark {bench!r}; choose demo, reference "
                     f"or startup:<command> (startup:runs, startup:--help, startup:plan, ...)")


# -- running ---------------------------------------------------------------------------------


def run_once(side: Side, load: Workload, project: Path, timeout_s: float) -> Measurement:
    if load.fresh_warehouse:
        shutil.rmtree(project / "warehouse", ignore_errors=True)
        shutil.rmtree(project / ".afluente", ignore_errors=True)
    argv, env = load.command(side, project)
    side.load.append(os.getloadavg()[0])
    launched = time.time()
    measured = measure(argv, env=env, timeout_s=timeout_s, cwd=project, stdout_limit=2_000_000,
                       check=False)
    if measured.returncode != 0:
        raise SystemExit(f"compare_revisions: side {side.label} ({side.rev}) failed with exit "
                         f"code {measured.returncode}: {shlex.join(argv)}\n"
                         f"{measured.stderr_tail[-3000:]}")
    side.runs.append(measured)
    if load.fresh_warehouse:
        side.stages.append(run_stages(project, launched, measured))
        side.tables = tables_written(measured)
    measured.stdout_tail = measured.stdout_tail[-1000:]
    return measured


def tables_written(measured: Measurement) -> dict[str, Any]:
    """Rows and status per table from `afluente --json run`'s report."""
    text = measured.stdout_tail
    try:
        report = json.loads(text[text.find("{"):])
    except ValueError:
        return {}
    return {m["table"]: {"rows": m.get("rows"), "status": m.get("status")}
            for m in report.get("models", [])}


def report_line(side: Side, m: Measurement) -> str:
    return (f"  {side.label} {side.key:<12} wall {m.wall_s:7.2f} s  cpu {m.user_s + m.sys_s:7.2f} s"
            f"  rss {m.peak_rss_mib:6.0f} MiB  load {side.load[-1]:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="revision A (default HEAD)")
    parser.add_argument("--new", default=WORKTREE,
                        help="revision B (default: the working tree's src/, uncommitted too)")
    parser.add_argument("--bench", default="demo",
                        help="demo | reference | startup:<command> (e.g. startup:runs)")
    parser.add_argument("--orders", type=int, default=1_000_000, help="demo/reference size")
    parser.add_argument("--pairs", type=int, default=5, help="timed A-B pairs (6+ for a sign test "
                        "able to reach p < 0.05)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs of each side first")
    parser.add_argument("--wait-idle", type=float, default=120,
                        help="max seconds to wait for an idle machine before each pair")
    parser.add_argument("--reference", type=Path,
                        default=REPO_ROOT.parent / "shared" / "perf-reference")
    parser.add_argument("--timeout", type=float, default=0, help="per run, s (default scales)")
    args = parser.parse_args(argv)
    if args.pairs < 1 or args.warmup < 0:
        parser.error("--pairs must be at least 1 and --warmup at least 0")
    command = shlex.join(["python", "bench/compare_revisions.py", *(argv or sys.argv[1:])])

    sides = [export("A", args.base), export("B", args.new)]
    for side in sides:
        check_import(side)
    with contextlib.redirect_stdout(sys.stderr):  # the data preparation's own messages
        load = workload(args.bench, args.orders, args.reference.resolve())
        projects = [load.prepare(side) for side in sides]
    timeout = args.timeout or max(600.0, args.orders / 1_000_000 * 900)
    print(f"{load.name}: A={sides[0].rev} ({sides[0].key}) B={sides[1].rev} ({sides[1].key})",
          file=sys.stderr, flush=True)
    for _ in range(args.warmup):
        for side, project in zip(sides, projects, strict=True):
            print(report_line(side, run_once(side, load, project, timeout)) + "  (warm-up)",
                  file=sys.stderr, flush=True)
    for side in sides:
        side.runs.clear()
        side.stages.clear()
        side.load.clear()
    busy: list[float] = []
    for pair in range(args.pairs):
        with contextlib.redirect_stdout(sys.stderr):  # stdout is the markdown alone
            busy.append(round(wait_for_idle(args.wait_idle) if args.wait_idle else
                              cpu_busy_fraction(), 3))
        print(f"pair {pair + 1}/{args.pairs} (CPU busy before: {busy[-1]:.0%})", file=sys.stderr,
              flush=True)
        for side, project in zip(sides, projects, strict=True):
            print(report_line(side, run_once(side, load, project, timeout)), file=sys.stderr,
                  flush=True)

    from compare_report import content_check, markdown

    content = content_check(args.bench, sides, projects, args.reference.resolve())
    env = environment()
    print(markdown(load.name, command, env, sides, busy, content, args.warmup))
    size = "" if args.bench.startswith("startup:") else f"_{args.orders}"
    name = (f"compare_{args.bench.replace(':', '_').replace('-', '')}{size}_"
            f"{sides[0].key[:7]}_{sides[1].key[:7]}")
    path = write_result(name, {
        "environment": env, "command": command, "bench": args.bench, "orders": args.orders,
        "pairs": args.pairs, "cpu_busy_before_each_pair": busy, "content": content,
        "sides": {s.label: {"rev": s.rev, "sha": s.sha, "load_avg_1m_before_each_run": s.load,
                            "stages": s.stages, "runs": [vars(m) for m in s.runs]}
                  for s in sides},
    })
    print(f"results: {path}", file=sys.stderr)
    return 0 if content.get("match", True) else 1


if __name__ == "__main__":
    sys.exit(main())
