"""Orchestration overhead: N trivial models built by afluente and by dbt-duckdb.

Both tools get the same generated DAG (`--models` tables, default 1,000): ten root models
that select ten rows from a `VALUES` list, then models that each read 1-3 upstream models
(biased to recent ones, so the graph is deep, as in `plan_validate.py`) with the same
trivial SQL text; only the table references differ (`silver.s_0003` vs `{{ ref('s_0003') }}`).
afluente writes Delta tables (`kind: full`); dbt-duckdb writes tables in one DuckDB file.

Each repetition alternates the tools and measures, as child processes:

- afluente first build (`--workers 1`, then `--workers W`), then its no-op re-run;
- dbt first build (`--threads 1`, then `--threads W`), then `dbt run` again (dbt has no
  up-to-date check: the re-run rebuilds every table).

Per-model work comes from each tool's own report (afluente `--json` `duration_s` per model,
dbt `target/run_results.json` execute timing); everything else in the wall time is overhead.

    python bench/orchestration.py --models 100 --repeat 1 --wait-idle 0    # harness check
    python bench/orchestration.py                                          # 1,000 models
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_DIR,
    DATA_DIR,
    ChildFailed,
    Measurement,
    afluente_cli,
    environment,
    measure,
    wait_for_idle,
    write_result,
)

GOAL_MS = 50.0
ROOTS = 10
SEED_ROWS = 10
DBT_VENV = DATA_DIR / "venv-dbt"


# --------------------------------------------------------------------------- the project


@dataclass(frozen=True)
class Model:
    """One generated model: its layer (afluente folder), name and upstream model names."""

    layer: str
    name: str
    upstream: tuple[str, ...]


def generate_dag(models: int, seed: int) -> list[Model]:
    """`ROOTS` roots, then models reading 1-3 earlier ones (40 % silver, 60 % gold)."""
    if models < ROOTS + 2:
        raise SystemExit(f"--models must be at least {ROOTS + 2}")
    rng = random.Random(seed)
    n_silver = int(models * 0.4)
    dag: list[Model] = []
    for i in range(models):
        layer, name = ("silver", f"s_{i:04d}") if i < n_silver else ("gold", f"g_{i:04d}")
        upstream = () if i < ROOTS else _pick(rng, [m.name for m in dag])
        dag.append(Model(layer, name, upstream))
    return dag


def _pick(rng: random.Random, pool: list[str]) -> tuple[str, ...]:
    """1-3 distinct upstream models, biased to recent ones so the graph gets deep."""
    count = min(len(pool), rng.choice((1, 1, 2, 2, 3)))
    chosen: list[str] = []
    while len(chosen) < count:
        index = len(pool) - 1 - int(abs(rng.gauss(0, max(len(pool) / 4, 1))))
        name = pool[max(index, 0)]
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def model_sql(model: Model, ref: dict[str, str]) -> str:
    """The model's SQL; `ref` maps a model name to how this tool spells the table."""
    if not model.upstream:
        rows = ", ".join(f"({i}, {i * 7 % 10})" for i in range(SEED_ROWS))
        return f"SELECT id, v FROM (VALUES {rows}) AS seed(id, v)\n"
    first, *rest = model.upstream
    value = " + ".join(["t0.v", *(f"coalesce(t{i}.v, 0)" for i in range(1, len(rest) + 1))])
    joins = "".join(f"\nLEFT JOIN {ref[u]} AS t{i} USING (id)" for i, u in enumerate(rest, 1))
    return f"SELECT t0.id, ({value} + 1) % 1000 AS v\nFROM {ref[first]} AS t0{joins}\n"


def write_afluente_project(root: Path, dag: list[Model]) -> None:
    """`afluente.yml` and `models/<layer>/<name>.sql`; no sources, every model `kind: full`."""
    _fresh(root)
    (root / "afluente.yml").write_text(
        "name: bench_orchestration\nwarehouse: warehouse\nengine: duckdb\n"
    )
    ref = {m.name: f"{m.layer}.{m.name}" for m in dag}
    for model in dag:
        folder = root / "models" / model.layer
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{model.name}.sql").write_text(model_sql(model, ref))


def write_dbt_project(root: Path, dag: list[Model]) -> None:
    """`dbt_project.yml` (every model `materialized: table`), `profiles.yml`, the models."""
    _fresh(root)
    (root / "dbt_project.yml").write_text(
        "name: bench_orchestration\nversion: '1.0'\nconfig-version: 2\n"
        "profile: bench_orchestration\nmodel-paths: [models]\n"
        "models:\n  bench_orchestration:\n    +materialized: table\n"
    )
    (root / "profiles.yml").write_text(
        "bench_orchestration:\n  target: dev\n  outputs:\n    dev:\n"
        "      type: duckdb\n      path: bench.duckdb\n      threads: 1\n"
    )
    ref = {m.name: "{{ ref('" + m.name + "') }}" for m in dag}
    for model in dag:
        folder = root / "models" / model.layer
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{model.name}.sql").write_text(model_sql(model, ref))


def _fresh(root: Path) -> None:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)


# --------------------------------------------------------------------------- the runs


@dataclass
class Run:
    """One timed run and how its wall time splits (seconds)."""

    scenario: str
    tool: str
    wall_s: float
    peak_rss_mib: float
    cpu_s: float
    models: int
    built: int
    parallel: int | None  # --workers / --threads; None: afluente's default
    work_s: float  # sum over models of the tool's own per-model time
    before_s: float | None = None  # launch -> first model could start (start-up, load, plan)
    execute_s: float | None = None  # the tool's own run clock
    after_s: float | None = None  # run clock stops -> process exit
    model_median_ms: float | None = None
    cpu_busy_before: float | None = None  # share of both CPUs busy just before (0-1)

    @property
    def serial(self) -> bool:
        """Per-model work adds up to the run's time only when one model runs at a time."""
        return self.parallel == 1 or self.work_s == 0

    @property
    def overhead_ms_per_model(self) -> float | None:
        """(wall - work) / N: everything that is not a model's own work, spread per model."""
        if not self.serial:
            return None
        return (self.wall_s - self.work_s) / self.models * 1000

    @property
    def execute_overhead_ms_per_model(self) -> float | None:
        """(execute - work) / N: the scheduling loop alone (state writes, events, reporting)."""
        if self.execute_s is None or not self.serial:
            return None
        return (self.execute_s - self.work_s) / self.models * 1000


def _timestamp(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _split(run: Run, launched: float, ended: float, started: float, finished: float) -> None:
    run.before_s = round(started - launched, 3)
    run.execute_s = round(finished - started, 3)
    run.after_s = round(ended - finished, 3)


def _timed(command: list[str], cwd: Path | None, env: dict[str, str] | None,
           timeout_s: float) -> tuple[Measurement, float, float]:
    launched = time.time()
    measured = measure(command, cwd=cwd, env=env, timeout_s=timeout_s, stdout_limit=10**8)
    return measured, launched, time.time()


def run_afluente(scenario: str, root: Path, workers: int | None, fresh: bool,
                 timeout_s: float) -> Run:
    """`afluente -p DIR --json run [--workers W]`; `fresh` removes the tables and state first
    (the SQL parse cache under `.afluente/cache` stays, as dbt keeps its partial parse)."""
    if fresh:
        shutil.rmtree(root / "warehouse", ignore_errors=True)
        for leftover in (root / ".afluente").glob("state.db*"):
            leftover.unlink()
    command = [afluente_cli(), "-p", str(root), "--json", "run"]
    if workers is not None:
        command += ["--workers", str(workers)]
    measured, launched, ended = _timed(command, None, None, timeout_s)
    payload = json.loads(measured.stdout_tail)
    models = payload["models"]
    if payload["status"] != "success":
        raise SystemExit(f"afluente run failed: {measured.stdout_tail[-2000:]}")
    built = [m for m in models if m["status"] == "success"]
    run = Run(
        scenario, "afluente", measured.wall_s, measured.peak_rss_mib,
        measured.user_s + measured.sys_s, len(models), len(built), workers,
        work_s=sum(m["duration_s"] for m in models),
        model_median_ms=statistics.median(m["duration_s"] for m in built) * 1000
        if built else None,
    )
    _split(run, launched, ended, _timestamp(payload["started_at"]),
           _timestamp(payload["finished_at"]))
    return run


def dbt_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(DBT_SEND_ANONYMOUS_USAGE_STATS="false", DBT_VERSION_CHECK="false",
               DO_NOT_TRACK="1")
    return env


def run_dbt(scenario: str, root: Path, threads: int, fresh: bool, timeout_s: float) -> Run:
    """`dbt run --threads T` in DIR; `fresh` removes the DuckDB file first (the partial-parse
    cache under `target/` stays)."""
    if fresh:
        for leftover in root.glob("bench.duckdb*"):
            leftover.unlink()
    command = [str(DBT_VENV / "bin" / "dbt"), "run", "--threads", str(threads),
               "--profiles-dir", str(root), "--project-dir", str(root)]
    measured, launched, ended = _timed(command, root, dbt_env(), timeout_s)
    results = json.loads((root / "target" / "run_results.json").read_text())
    nodes = results["results"]
    execute = [_phase(n, "execute") for n in nodes]
    built = [n for n in nodes if n["status"] == "success"]
    if len(built) != len(nodes):
        raise SystemExit(f"dbt run failed: {measured.stdout_tail[-2000:]}")
    run = Run(
        scenario, "dbt-duckdb", measured.wall_s, measured.peak_rss_mib,
        measured.user_s + measured.sys_s, len(nodes), len(built), threads,
        work_s=sum(end - start for start, end in execute),
        model_median_ms=statistics.median(n["execution_time"] for n in nodes) * 1000,
    )
    # dbt's run clock: the first model's compile start to the last model's execute end
    starts = [_phase(n, "compile")[0] for n in nodes]
    _split(run, launched, ended, min(starts), max(end for _, end in execute))
    return run


def _phase(node: dict[str, Any], name: str) -> tuple[float, float]:
    timing = next(t for t in node["timing"] if t["name"] == name)
    return _timestamp(timing["started_at"]), _timestamp(timing["completed_at"])


def warm_up(args: argparse.Namespace) -> None:
    """Untimed: fill both tools' parse caches (afluente `.afluente/cache`, dbt's partial parse
    in `target/`), `.pyc` files and the page cache, so no timed run pays for a cold start."""
    measure([afluente_cli(), "-p", str(args.dir / "afluente"), "plan"], timeout_s=args.timeout)
    if not args.skip_dbt:
        root = args.dir / "dbt"
        measure([str(DBT_VENV / "bin" / "dbt"), "parse", "--profiles-dir", str(root),
                 "--project-dir", str(root)], cwd=root, env=dbt_env(), timeout_s=args.timeout)


def afluente_has_workers() -> bool:
    """`afluente run --workers` arrives with the parallel executor; older builds lack it."""
    help_text = subprocess.run(
        [afluente_cli(), "run", "--help"], capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "200"},
    ).stdout
    return "--workers" in help_text


def ensure_dbt() -> None:
    subprocess.run(["bash", str(BENCH_DIR / "ensure-dbt.sh")], check=True)


# --------------------------------------------------------------------------- the report


def _median(runs: list[Run], attribute: str) -> float | None:
    values = [getattr(r, attribute) for r in runs]
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def summarize(runs: list[Run]) -> list[dict[str, Any]]:
    scenarios = list(dict.fromkeys(r.scenario for r in runs))
    rows = []
    for scenario in scenarios:
        chosen = [r for r in runs if r.scenario == scenario]
        rows.append({
            "scenario": scenario,
            "tool": chosen[0].tool,
            "n": len(chosen),
            "models": chosen[0].models,
            "built": chosen[0].built,
            **{key: _median(chosen, key) for key in (
                "wall_s", "peak_rss_mib", "cpu_s", "work_s", "before_s", "execute_s",
                "after_s", "model_median_ms", "overhead_ms_per_model",
                "execute_overhead_ms_per_model",
            )},
            "walls_s": [r.wall_s for r in chosen],
        })
    return rows


def _cell(value: float | None, width: int, digits: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"\n{'scenario':<42} {'wall s':>7} {'RSS':>5} {'work s':>7} {'before':>6} "
          f"{'exec':>6} {'after':>6} {'model ms':>8} {'ovh ms/m':>8} {'loop ms/m':>9}")
    for r in rows:
        print(
            f"{r['scenario']:<42} {r['wall_s']:>7.2f} {r['peak_rss_mib']:>5.0f} "
            f"{r['work_s']:>7.2f} {_cell(r['before_s'], 6, 2)} {_cell(r['execute_s'], 6, 2)} "
            f"{_cell(r['after_s'], 6, 2)} {_cell(r['model_median_ms'], 8, 1)} "
            f"{_cell(r['overhead_ms_per_model'], 8, 1)} "
            f"{_cell(r['execute_overhead_ms_per_model'], 9, 1)}"
        )


# --------------------------------------------------------------------------- main


def _repetition(args: argparse.Namespace, workers: list[int | None], threads: list[int],
                reverse: bool) -> list[Run]:
    """One repetition: each tool at each parallelism, first build then re-run; the tools
    alternate, and every other repetition starts with dbt."""
    a_dir, d_dir = args.dir / "afluente", args.dir / "dbt"
    steps: list[tuple[str, Any]] = []
    for w, t in zip(workers, threads, strict=True):
        label = f"workers {w}" if w is not None else "default workers"
        steps.append(("afluente", lambda w=w, label=label: [
            run_afluente(f"afluente first build, {label}", a_dir, w, True, args.timeout),
            run_afluente(f"afluente no-op re-run, {label}", a_dir, w, False, args.timeout),
        ]))
        if not args.skip_dbt:
            steps.append(("dbt", lambda t=t: [
                run_dbt(f"dbt run, threads {t}", d_dir, t, True, args.timeout),
                run_dbt(f"dbt re-run (rebuilds all), threads {t}", d_dir, t, False,
                        args.timeout),
            ]))
    if reverse:
        steps = [s for pair in zip(steps[1::2], steps[0::2], strict=False) for s in pair]
    runs: list[Run] = []
    for tool, step in steps:
        busy = wait_for_idle(args.wait_idle)
        print(f"{tool}: CPU busy before {busy:.0%}", flush=True)
        for run in step():
            run.cpu_busy_before = round(busy, 3)
            runs.append(run)
            overhead = run.overhead_ms_per_model
            note = "" if overhead is None else f", {overhead:.1f} ms/model overhead"
            print(f"  {run.scenario}: {run.wall_s:.2f} s, {run.built}/{run.models} built{note}",
                  flush=True)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Orchestration overhead per model on N trivial models: afluente vs "
        "dbt-duckdb (goal: at most 50 ms per model).",
    )
    parser.add_argument("--models", type=int, default=1000, help="models in total")
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions")
    parser.add_argument("--workers", type=int, default=4,
                        help="the parallel setting compared with 1 (afluente --workers, "
                        "dbt --threads)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-dbt", action="store_true", help="afluente only")
    parser.add_argument("--wait-idle", type=float, default=600,
                        help="seconds to wait for an idle machine before each tool's runs")
    parser.add_argument("--timeout", type=float, default=1800, help="per-command limit (s)")
    parser.add_argument("--dir", type=Path, default=None,
                        help="work folder (default bench/.data/orchestration_N)")
    args = parser.parse_args(argv)
    args.dir = args.dir or DATA_DIR / f"orchestration_{args.models}"

    dag = generate_dag(args.models, args.seed)
    write_afluente_project(args.dir / "afluente", dag)
    if not args.skip_dbt:
        ensure_dbt()
        write_dbt_project(args.dir / "dbt", dag)
    has_workers = afluente_has_workers()
    workers: list[int | None] = [1, args.workers] if has_workers else [None]
    threads = [1, args.workers] if has_workers else [1]
    if not has_workers:
        print("note: this afluente has no `run --workers` yet; measuring its default executor "
              "against dbt --threads 1 only", flush=True)
    print(f"project {args.dir}: {len(dag)} models", flush=True)

    env_before = environment()
    runs: list[Run] = []
    try:
        warm_up(args)
        for index in range(args.repeat):
            runs += _repetition(args, workers, threads, reverse=index % 2 == 1)
    except ChildFailed as failure:
        print(failure, file=sys.stderr)
        return 1
    rows = summarize(runs)
    payload = {
        "benchmark": "orchestration",
        "models": args.models,
        "goal_ms_per_model": GOAL_MS,
        "environment": env_before,
        "dbt_versions": _dbt_versions() if not args.skip_dbt else None,
        "afluente_has_workers": has_workers,
        "summary": rows,
        "runs": [asdict(r) for r in runs],
    }
    path = write_result(f"orchestration_{args.models}", payload)
    print_table(rows)
    print(f"\nwork = sum of per-model times reported by the tool; overhead = (wall - work) / N;"
          f" loop = (tool's run clock - work) / N. Goal: overhead <= {GOAL_MS:.0f} ms/model.")
    print(f"results: {path}")
    return 0


def _dbt_versions() -> dict[str, str]:
    code = ("from importlib import metadata as m; import json; print(json.dumps({p: m.version(p)"
            " for p in ('dbt-core', 'dbt-duckdb', 'duckdb')}))")
    out = subprocess.run([str(DBT_VENV / "bin" / "python"), "-c", code],
                         capture_output=True, text=True, check=True).stdout
    versions: dict[str, str] = json.loads(out)
    return versions


if __name__ == "__main__":
    raise SystemExit(main())
