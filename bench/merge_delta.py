"""Merge M changed rows (half updates, half inserts) into an N-row Delta table.

Compares afluente's merge (`afluente.transform.merge`: checks keys in DuckDB, then one
delta-rs MERGE that rewrites only changed rows) with calling deltalake's merge builder
directly (update all / insert all). Each contender runs in its own subprocess on its own copy
of the table; wall time and the child's peak RSS (os.wait4 rusage) are reported.

    .venv/bin/python bench/merge_delta.py --target-rows 20000000 --changed-rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
CHANGES_SQL = """
SELECT (CASE WHEN i % 2 = 0 THEN (i * 7919) % {n} ELSE {n} + i END)::BIGINT AS id,
       'changed-' || i AS name, (i % 1000) / 10.0 AS amount,
       TIMESTAMP '2025-01-01' + to_seconds(i) AS updated_at
FROM range({m}) t(i)
"""
BASE_SQL = """
SELECT i::BIGINT AS id, 'name-' || i AS name, (i % 500) / 10.0 AS amount,
       TIMESTAMP '2024-01-01' + to_seconds(i % 86400) AS updated_at
FROM range({n}) t(i)
"""


def build(path: Path, n: int) -> None:
    import duckdb
    from deltalake import write_deltalake

    reader = duckdb.sql(BASE_SQL.format(n=n)).to_arrow_reader(1_000_000)
    write_deltalake(str(path), reader, mode="overwrite")


def run_afluente(path: Path, n: int, m: int) -> dict[str, object]:
    import duckdb

    from afluente.engines.duckdb_workspace import DuckDBWorkspace
    from afluente.transform import MergeSpec, Target, merge

    con = duckdb.connect()
    result = merge(
        Target(str(path)), con.sql(CHANGES_SQL.format(n=n, m=m)), MergeSpec(("id",)),
        workspace=DuckDBWorkspace.sharing(con),
    )
    return {"version": result.version, "upserted": result.upserted}


def run_deltalake(path: Path, n: int, m: int) -> dict[str, object]:
    import duckdb
    from deltalake import DeltaTable

    source = duckdb.sql(CHANGES_SQL.format(n=n, m=m)).to_arrow_reader(1_000_000)
    metrics = (
        DeltaTable(str(path))
        .merge(source, "t.id = s.id", source_alias="s", target_alias="t")
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .execute()
    )
    return {k: metrics[k] for k in ("num_target_rows_updated", "num_target_rows_inserted")}


def child(role: str, path: Path, n: int, m: int) -> None:
    started = time.perf_counter()
    info = run_afluente(path, n, m) if role == "afluente" else run_deltalake(path, n, m)
    info["seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(info))


def measure(role: str, path: Path, n: int, m: int) -> dict[str, object]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        role,
        "--path",
        str(path),
        "--target-rows",
        str(n),
        "--changed-rows",
        str(m),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{role} failed with status {status}")
    info = json.loads(out.strip().splitlines()[-1])
    info["peak_rss_mib"] = round(usage.ru_maxrss / 1024, 1)  # Linux: KiB
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target-rows", type=int, default=20_000_000)
    parser.add_argument("--changed-rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / ".data" / "merge_delta")
    parser.add_argument("--child", choices=["afluente", "deltalake"])
    parser.add_argument("--path", type=Path)
    args = parser.parse_args()
    n, m = args.target_rows, args.changed_rows
    if args.child:
        child(args.child, args.path, n, m)
        return
    base = args.workdir / f"base_{n}"
    if not base.exists():
        started = time.perf_counter()
        build(base, n)
        print(f"built {n} rows in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    results: dict[str, object] = {
        "target_rows": n,
        "changed_rows": m,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    for role in ("deltalake", "afluente"):
        copy = args.workdir / f"{role}_{n}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(base, copy)
        results[role] = measure(role, copy, n, m)
        print(role, results[role], file=sys.stderr)
        shutil.rmtree(copy, ignore_errors=True)
    out = BENCH_DIR / "results" / f"merge_delta_{n}_{m}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
