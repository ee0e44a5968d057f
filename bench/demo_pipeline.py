"""The demo pipeline (dirty CSV -> bronze -> silver -> gold) in afluente vs raw DuckDB.

For `--orders N` the landing zone is generated once (reused while the generator, N and the
seed are unchanged), then each repetition measures, every tool in its own child process:

  afluente-full   `afluente -p DIR --json run` from scratch (warehouse/ and .afluente/ removed)
  afluente-noop   the same command again with no new input: it must write nothing
  raw-duckdb      `bench/raw_duckdb.py --landing DIR/landing --out OUT` (same SQL, Parquet out)

Wall time and peak RSS come from `os.wait4` on each child. Medians go to
`bench/results/demo_pipeline_<N>.json` and are printed.

    python bench/demo_pipeline.py --orders 1000000 --repeat 3
    python bench/demo_pipeline.py --orders 10000000 --repeat 1
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_DIR,
    DATA_DIR,
    ChildFailed,
    Measurement,
    Series,
    afluente_cli,
    environment,
    measure,
    wait_for_idle,
    write_result,
)

from afluente.demo.build import copy_project_template

GOAL_RATIO = 1.5
RAW_SCRIPT = BENCH_DIR / "raw_duckdb.py"


def _generator_fingerprint() -> str:
    """Hash of the demo generator's source: a changed generator means new landing data."""
    import afluente.demo

    digest = hashlib.sha256()
    package = Path(afluente.demo.__file__).parent
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _dir_size_mib(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def prepare(root: Path, orders: int, seed: int, regenerate: bool) -> dict[str, Any]:
    """Lay out the demo project in `root`; generate the landing zone only when needed."""
    marker = root / ".bench_landing.json"
    wanted = {"orders": orders, "seed": seed, "generator": _generator_fingerprint()}
    current: dict[str, Any] = {}
    if marker.exists() and (root / "landing").exists():
        current = json.loads(marker.read_text())
    if regenerate or {k: current.get(k) for k in wanted} != wanted:
        from afluente.demo.build import prepare_demo

        print(f"generating the landing zone for {orders:,} orders in {root} ...", flush=True)
        marker.unlink(missing_ok=True)
        started = time.perf_counter()
        layout = prepare_demo(root, orders=orders, seed=seed)
        seconds = round(time.perf_counter() - started, 1)
        current = {
            **wanted,
            "generate_s": seconds,
            "rows": {name: e.rows for name, e in layout.landing.entities.items()},
            "files": sum(len(e.files) for e in layout.landing.entities.values()),
            "dirt": dict(layout.landing.dirt),
        }
        current["landing_mib"] = _dir_size_mib(root / "landing")
        marker.write_text(json.dumps(current, indent=2) + "\n")
        print(f"  {current['landing_mib']} MiB of CSV in {seconds} s", flush=True)
    else:
        print(f"reusing the landing zone in {root} ({current.get('landing_mib')} MiB)")
    copy_project_template(root)
    return current


def _warehouse_snapshot(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Every file under the warehouse with its size and mtime: to prove a no-op wrote nothing."""
    if not warehouse.exists():
        return {}
    return {
        str(p.relative_to(warehouse)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in warehouse.rglob("*")
        if p.is_file()
    }


def _parse_json(measurement: Measurement) -> dict[str, Any]:
    text = measurement.stdout_tail.strip()
    start = text.find("{")
    try:
        parsed: dict[str, Any] = json.loads(text[start:])
    except ValueError:
        return {}
    return parsed


def _afluente_tables(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        m["table"]: {
            "status": m.get("status"),
            "rows": m.get("rows"),
            "seconds": m.get("duration_s"),
        }
        for m in report.get("models", [])
    }


def _raw_tables(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: dict(entry) for name, entry in report.get("tables", {}).items()}


def _wait_for_raw_script(timeout_s: float) -> None:
    """The raw baseline is written by someone else: wait for it rather than replace it."""
    deadline = time.monotonic() + timeout_s
    while not RAW_SCRIPT.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{RAW_SCRIPT} did not appear within {timeout_s:.0f} s")
        print(f"waiting for {RAW_SCRIPT} ...", flush=True)
        time.sleep(30)


def run(args: argparse.Namespace) -> int:
    root: Path = (args.dir or DATA_DIR / f"demo_{args.orders}").resolve()
    repeat = args.repeat or (3 if args.orders <= 2_000_000 else 1)
    timeout = args.timeout or max(900.0, args.orders / 1_000_000 * 300)
    if not args.skip_raw:
        _wait_for_raw_script(args.wait_for_raw)
    root.mkdir(parents=True, exist_ok=True)
    landing = prepare(root, args.orders, args.seed, args.regenerate)

    cli = afluente_cli()
    afluente_cmd = [cli, "-p", str(root), "--json", "run"]
    raw_out = root / "raw_out"
    raw_cmd = [
        sys.executable,
        str(RAW_SCRIPT),
        "--landing",
        str(root / "landing"),
        "--out",
        str(raw_out),
        "--project",
        str(root),
    ]
    full, noop, raw = Series("afluente full run"), Series("afluente no-op run"), Series("raw")
    noop_wrote: list[int] = []
    busy_before: list[float] = []
    af_tables: dict[str, dict[str, Any]] = {}
    raw_tables: dict[str, dict[str, Any]] = {}
    try:
        for i in range(repeat):
            busy = wait_for_idle(args.wait_idle)
            busy_before.append(round(busy, 3))
            print(f"repetition {i + 1}/{repeat} (CPU busy before: {busy:.0%})", flush=True)
            shutil.rmtree(root / "warehouse", ignore_errors=True)
            shutil.rmtree(root / ".afluente", ignore_errors=True)
            m = measure(afluente_cmd, cwd=root, timeout_s=timeout, stdout_limit=1_000_000)
            full.runs.append(m)
            af_tables = _afluente_tables(_parse_json(m))
            print(f"  afluente full run   {m.wall_s:8.2f} s  {m.peak_rss_mib:8.0f} MiB", flush=True)

            before = _warehouse_snapshot(root / "warehouse")
            m = measure(afluente_cmd, cwd=root, timeout_s=timeout, stdout_limit=1_000_000)
            noop.runs.append(m)
            after = _warehouse_snapshot(root / "warehouse")
            changed = sum(1 for k, v in after.items() if before.get(k) != v)
            noop_wrote.append(changed)
            print(
                f"  afluente no-op run  {m.wall_s:8.2f} s  {m.peak_rss_mib:8.0f} MiB  "
                f"({changed} files written)",
                flush=True,
            )

            if not args.skip_raw:
                shutil.rmtree(raw_out, ignore_errors=True)
                m = measure(raw_cmd, cwd=root, timeout_s=timeout, stdout_limit=1_000_000)
                raw.runs.append(m)
                raw_tables = _raw_tables(_parse_json(m))
                print(
                    f"  raw DuckDB          {m.wall_s:8.2f} s  {m.peak_rss_mib:8.0f} MiB",
                    flush=True,
                )
    except ChildFailed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        write_result(
            f"demo_pipeline_{args.orders}_failed",
            {
                "benchmark": "demo_pipeline",
                "orders": args.orders,
                "environment": environment(),
                "failure": {
                    "command": failure.measurement.command,
                    "returncode": failure.measurement.returncode,
                    "wall_s": failure.measurement.wall_s,
                    "stdout_tail": failure.measurement.stdout_tail[-8000:],
                    "stderr_tail": failure.measurement.stderr_tail,
                },
            },
        )
        return 1

    ratio = full.wall_median_s / raw.wall_median_s if raw.runs else None
    rss_ratio = full.rss_median_mib / raw.rss_median_mib if raw.runs else None
    row_diffs = {
        table: {"afluente": entry.get("rows"), "raw": raw_tables.get(table, {}).get("rows")}
        for table, entry in af_tables.items()
        if raw_tables and entry.get("rows") != raw_tables.get(table, {}).get("rows")
    }
    for series in (full, noop, raw):  # the parsed reports are kept per table below
        for m in series.runs:
            m.stdout_tail = m.stdout_tail[-2000:]
    payload: dict[str, Any] = {
        "benchmark": "demo_pipeline",
        "orders": args.orders,
        "repeat": repeat,
        "environment": environment(),
        "cpu_busy_before_each_repetition": busy_before,
        "landing": landing,
        "goal_ratio": GOAL_RATIO,
        "ratio_wall_afluente_over_raw": None if ratio is None else round(ratio, 3),
        "ratio_rss_afluente_over_raw": None if rss_ratio is None else round(rss_ratio, 3),
        "noop_files_written": noop_wrote,
        "row_count_differences": row_diffs,
        "series": [s.summary() for s in (full, noop, raw) if s.runs],
        "tables": {
            table: {"afluente": af_tables.get(table), "raw": raw_tables.get(table)}
            for table in sorted(set(af_tables) | set(raw_tables))
        },
    }
    path = write_result(f"demo_pipeline_{args.orders}", payload)

    print(f"\n{args.orders:,} orders, {landing.get('landing_mib')} MiB of CSV, median of {repeat}")
    print(f"{'':<20} {'wall s':>8} {'peak RSS MiB':>13}")
    for s in (full, noop, raw):
        if s.runs:
            print(f"{s.name:<20} {s.wall_median_s:>8.2f} {s.rss_median_mib:>13.0f}")
    if ratio is not None and rss_ratio is not None:
        verdict = "met" if ratio <= GOAL_RATIO else "NOT met"
        print(
            f"afluente / raw: wall {ratio:.2f}x (goal <= {GOAL_RATIO}x: {verdict}), "
            f"RSS {rss_ratio:.2f}x"
        )
    print(f"no-op run files written: {noop_wrote}")
    if row_diffs:
        print(f"row counts differ (afluente vs raw): {row_diffs}")
    print(f"results: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark the demo pipeline: afluente (full run, no-op re-run) against the "
        "same transformations in raw DuckDB. Each tool runs in its own process.",
    )
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders in the landing zone")
    parser.add_argument(
        "--repeat", type=int, default=0, help="repetitions (default 3 up to 2M orders, else 1)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--dir", type=Path, default=None, help="project folder (default bench/.data/demo_N)"
    )
    parser.add_argument("--regenerate", action="store_true", help="regenerate the landing zone")
    parser.add_argument("--skip-raw", action="store_true", help="measure afluente only")
    parser.add_argument(
        "--timeout", type=float, default=0, help="per-command limit in s (default scales with N)"
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=600,
        help="seconds to wait for an idle machine before each repetition",
    )
    parser.add_argument(
        "--wait-for-raw",
        type=float,
        default=1800,
        help="seconds to wait for bench/raw_duckdb.py to appear",
    )
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
