"""CSV → bronze Delta ingestion throughput, against DuckDB `read_csv` → Parquet alone.

A synthetic landing zone of `--gib` GiB of CSV (16 files, 10 columns of ids, decimals, dates,
text with quotes and commas) is generated once with DuckDB. Then, each tool in its own child
process, from scratch every repetition:

  afluente-ingest   `afluente -p DIR --json run`: read, stamp `_source`, `_ingested_at`,
                    `_run_id`, `_row_hash`, `_rescued_data`, write one Delta commit
  raw-duckdb        DuckDB alone: `COPY (SELECT * FROM read_csv(..., all_varchar)) TO dir
                    (FORMAT parquet, PER_THREAD_OUTPUT)` (columns as text, like bronze)

Throughput is CSV bytes / wall time. Results: `bench/results/ingest_csv_<gib>gib.json`.

    python bench/ingest_csv.py --gib 1.2 --repeat 2
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    DATA_DIR,
    Series,
    afluente_cli,
    environment,
    measure,
    wait_for_idle,
    write_result,
)

FILES = 16
BYTES_PER_ROW = 118  # measured on the generated layout, to size the landing zone
GOAL = 0.70

RAW = textwrap.dedent("""\
    import sys, duckdb
    landing, out = sys.argv[1], sys.argv[2]
    con = duckdb.connect()
    con.execute(f\"\"\"COPY (SELECT * FROM read_csv('{landing}/*.csv', all_varchar = true,
        filename = true)) TO '{out}' (FORMAT parquet, PER_THREAD_OUTPUT true)\"\"\")
""")


def generate(folder: Path, gib: float) -> int:
    """Write the landing zone once; returns its size in bytes."""
    import duckdb

    landing = folder / "landing"
    marker = folder / "landing.json"
    if marker.exists() and json.loads(marker.read_text()).get("gib") == gib:
        return int(json.loads(marker.read_text())["bytes"])
    shutil.rmtree(folder, ignore_errors=True)
    landing.mkdir(parents=True)
    rows = int(gib * 1024**3 / BYTES_PER_ROW / FILES)
    con = duckdb.connect()
    for part in range(FILES):
        start = part * rows
        con.execute(f"""
            COPY (
              SELECT i AS event_id,
                     i % 100003 AS customer_id,
                     round((i % 99991) * 1.37, 2) AS amount,
                     DATE '2020-01-01' + CAST(i % 1800 AS INTEGER) AS day,
                     TIMESTAMP '2020-01-01' + to_seconds(i % 157000000) AS at,
                     ['pix', 'boleto', 'credit_card', 'debit'][1 + i % 4] AS method,
                     'SP' AS uf,
                     'Rua ' || (i % 977) || ', "casa" ' || (i % 13) AS address,
                     md5(CAST(i AS VARCHAR)) AS token,
                     i % 7 = 0 AS flagged
              FROM range({start}, {start + rows}) t(i)
            ) TO '{landing}/part_{part:02d}.csv' (HEADER, DELIMITER ',')""")
    size = sum(p.stat().st_size for p in landing.glob("*.csv"))
    marker.write_text(json.dumps({"gib": gib, "bytes": size, "rows": rows * FILES}))
    return size


def afluente_project(folder: Path) -> Path:
    project = folder / "project"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir()
    (project / "afluente.yml").write_text(
        "name: ingest_bench\n"
        "sources:\n"
        f"  events:\n    type: files\n    path: {folder / 'landing'}/*.csv\n"
    )
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gib", type=float, default=1.2)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    folder = DATA_DIR / f"csv_{args.gib}gib"
    size = generate(folder, args.gib)
    busy = wait_for_idle(600)
    ours, raw = Series("afluente-ingest"), Series("raw-duckdb")
    for _ in range(args.repeat):
        project = afluente_project(folder)
        ours.runs.append(measure([afluente_cli(), "-p", str(project), "--json", "run"]))
        out = folder / "raw_out"
        shutil.rmtree(out, ignore_errors=True)
        raw.runs.append(
            measure([sys.executable, "-c", RAW, str(folder / "landing"), str(out)])
        )
    rate = {s.name: size / 1e6 / s.wall_median_s for s in (ours, raw)}
    ratio = rate["afluente-ingest"] / rate["raw-duckdb"]
    payload: dict[str, Any] = {
        "scenario": "csv → bronze",
        "csv_bytes": size,
        "files": FILES,
        "cpu_busy_before": round(busy, 3),
        "mb_per_s": {k: round(v, 1) for k, v in rate.items()},
        "ratio_of_raw": round(ratio, 3),
        "goal_ratio": GOAL,
        "series": [ours.summary(), raw.summary()],
        "environment": environment(),
    }
    path = write_result(f"ingest_csv_{args.gib}gib", payload)
    print(f"{size / 1e9:.2f} GB of CSV, {FILES} files")
    for series in (ours, raw):
        print(
            f"  {series.name:<16} {series.wall_median_s:7.2f} s  "
            f"{rate[series.name]:7.1f} MB/s  peak {series.rss_median_mib:7.1f} MiB"
        )
    print(f"  afluente reaches {ratio:.0%} of DuckDB's raw rate (goal {GOAL:.0%}) -> {path}")


if __name__ == "__main__":
    main()
