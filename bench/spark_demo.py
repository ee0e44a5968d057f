"""The demo pipeline on DuckDB vs on Spark `local[2]`: wall, CPU and peak memory, paired.

For `--orders N` the demo's landing zone is generated once (as `demo_pipeline.py` does) and
copied into two projects that differ only in `engine:`:

  duckdb   `engine: duckdb` (the demo as shipped)
  spark    `engine: {type: spark, master: local[2], ...}`; the demo's two Python models
           are written for DuckDB relations, and `--duckdb-models` (default: the silver
           models whose SQL uses DuckDB-only functions: `strip_accents`, `try_strptime`,
           JSON functions, and `gold.fct_orders`, whose `'infinity'` timestamp Spark cannot
           cast) keep `engine: duckdb`, so this is a mixed run: the models that translate
           to Spark SQL run on Spark

Each repetition runs `afluente -p DIR --json run` from scratch (warehouse/ and .afluente/
removed) for each project in turn, alternating (A B A B ...), each in a process session of
its own. Wall time is the child's; CPU is user+system of every process of the run (afluente,
the JVM, Spark's Python workers), each read from /proc/PID/stat at its last 0.2 s sample
(the JVM is not reaped by afluente, so `wait4` would miss it; a process that lives less
than 0.2 s can be missed, and the last <0.2 s of each is); peak
memory is the largest sum of the resident set sizes of every process of the session, sampled
every 0.2 s from /proc (the JVM's RSS counts, not only the largest process). After the last
pair, every table of the two warehouses is compared by an order-independent hash of its
values (numbers by value; the columns saying when and by which run a row was written left
out), and the tables that differ are listed.

    python bench/spark_demo.py --orders 200000 --repeat 2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA_DIR, afluente_cli, environment, write_result
from demo_pipeline import prepare

SPARK_ENGINE = (
    "engine: {type: spark, master: 'local[2]', conf: {spark.sql.shuffle.partitions: 8, "
    "spark.driver.memory: 4g}}"
)
# when and by which run a row was written: different in any two runs, on any engine
RUN_COLUMNS = {"_ingested_at", "_run_id", "landed_at", "_quarantined_at"}
PYTHON_MODEL = re.compile(r"^@afluente\.table\(", re.MULTILINE)
DUCKDB_ONLY = ("silver.orders,silver.payments,silver.products,silver.cities,"
               "silver.customer_updates,silver.customers,silver.sellers,gold.fct_orders")


def make_projects(orders: int, seed: int, on_duckdb: list[str]) -> dict[str, Path]:
    base = DATA_DIR / f"spark_demo_{orders}"
    duck = base / "duckdb"
    prepare(duck, orders, seed, regenerate=False)
    spark = base / "spark"
    shutil.rmtree(spark, ignore_errors=True)
    shutil.copytree(duck, spark, ignore=shutil.ignore_patterns("warehouse", ".afluente"))
    config = spark / "afluente.yml"
    config.write_text(config.read_text().replace("engine: duckdb", SPARK_ENGINE, 1))
    for model in (spark / "models").rglob("*.py"):
        text = model.read_text()
        model.write_text(PYTHON_MODEL.sub('@afluente.table(\n    engine="duckdb",', text))
    for name in on_duckdb:
        layer, table = name.split(".")
        model = spark / "models" / layer / f"{table}.sql"
        text = model.read_text()
        if text.startswith("/* @config\n"):
            model.write_text(text.replace("/* @config\n", "/* @config\nengine: duckdb\n", 1))
        else:
            model.write_text("/* @config\nengine: duckdb\n*/\n" + text)
    return {"duckdb": duck, "spark": spark}


def _session_sample(session: int, cpu: dict[int, float]) -> int:
    """The summed RSS (KiB) of the session's processes now; records each one's CPU seconds
    so far in `cpu` (the JVM is not reaped by afluente, so `wait4` alone misses it)."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != session:
                continue
            status = (entry / "status").read_text()
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, ProcessLookupError):
            continue
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(found.group(1)) if found else 0
    return total


def run_once(project: Path) -> dict[str, Any]:
    shutil.rmtree(project / "warehouse", ignore_errors=True)
    shutil.rmtree(project / ".afluente", ignore_errors=True)
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable)
    command = [afluente_cli(), "-p", str(project), "--json", "run"]
    started = time.perf_counter()
    with open(project / "bench-run.log", "wb") as log:
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                 start_new_session=True)
        peak = 0
        cpu: dict[int, float] = {}
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _session_sample(child.pid, cpu))
            time.sleep(0.2)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        tail = (project / "bench-run.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"{shlex_join(command)} failed ({code}):\n{tail}")
    reaped = usage.ru_utime + usage.ru_stime  # afluente and what it waited for
    sampled = sum(cpu.values())  # every process of the session, to its last sample
    return {"wall_s": round(wall, 2), "cpu_s": round(max(reaped, sampled), 2),
            "peak_mib": round(peak / 1024, 1)}


def shlex_join(command: list[str]) -> str:
    import shlex

    return shlex.join(command)


def _value(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, Decimal)):
        return str(Decimal(value).normalize())
    if isinstance(value, float):
        return repr(round(value, 6))
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def table_hashes(warehouse: Path) -> dict[str, str]:
    from deltalake import DeltaTable

    hashes = {}
    for log in sorted(warehouse.glob("*/*/_delta_log")):
        table = DeltaTable(str(log.parent)).to_pyarrow_table()
        table = table.drop_columns([c for c in table.column_names if c in RUN_COLUMNS])
        rows = sorted(repr(tuple(_value(v) for v in row.values())) for row in table.to_pylist())
        digest = hashlib.sha256(repr((sorted(table.column_names), rows)).encode()).hexdigest()
        hashes[f"{log.parent.parent.name}.{log.parent.name}"] = digest[:16]
    return hashes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2, help="pairs (A B) to run")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--duckdb-models", default=DUCKDB_ONLY,
                        help="SQL models kept on DuckDB in the Spark project (comma list)")
    parser.add_argument("--skip-content", action="store_true",
                        help="skip the content comparison (minutes at 1M orders)")
    args = parser.parse_args(argv)
    pinned = [m for m in args.duckdb_models.split(",") if m]
    projects = make_projects(args.orders, args.seed, pinned)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in projects}
    load = [os.getloadavg()[0]]
    for n in range(args.repeat):
        for name, project in projects.items():
            result = run_once(project)
            runs[name].append(result)
            load.append(os.getloadavg()[0])
            print(f"pair {n + 1} {name}: {result}", flush=True)
    hashes = {name: {} if args.skip_content else table_hashes(project / "warehouse")
              for name, project in projects.items()}
    tables = sorted(set(hashes["duckdb"]) | set(hashes["spark"]))
    differ = [t for t in tables if hashes["duckdb"].get(t) != hashes["spark"].get(t)]
    summary = {
        name: {key: statistics.median(r[key] for r in results)
               for key in ("wall_s", "cpu_s", "peak_mib")}
        for name, results in runs.items()
    }
    payload = {
        "orders": args.orders, "repeat": args.repeat, "engine_spark": SPARK_ENGINE,
        "kept_on_duckdb": pinned,
        "median": summary, "runs": runs, "tables": len(tables), "tables_differ": differ,
        "load_1m": [round(x, 1) for x in load], "environment": environment(),
    }
    path = write_result(f"spark_demo_{args.orders}", payload)
    print(json.dumps({"median": summary, "tables": len(tables), "tables_differ": differ,
                      "load_1m": payload["load_1m"]}, indent=1))
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
