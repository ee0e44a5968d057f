"""Table maintenance: files and bytes before/after compaction, and the time of a filtered
query on a gold-like table as written (many small appends), compacted, and Z-ordered.

One table of `--rows` rows is written as `--files` appends (a micro-batch each: rows of
random customers over a year), then copied twice; one copy is compacted, the other
Z-ordered by `customer_id` (afluente's `maintain_table`, the code `afluente maintain`
runs). The query is `customer_id = <value>` counted through the Arrow dataset afluente
reads tables with; the three variants are measured in alternation, rotating the order,
`--repeat` times, so a slow spell of a shared machine hits all three. Medians, the paired
ratios and the files a filter reads (from the files' statistics) are printed as JSON.

    PYTHONPATH=src python bench/maintenance.py --rows 2000000 --files 200 --repeat 15 \
        --target-mib 4
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paired_stats import paired_ratio

from afluente.storage.arrow_dataset import delta_dataset
from afluente.storage.maintenance import (
    MaintenanceWork,
    Probe,
    footprint,
    maintain_table,
)

CUSTOMERS = 200_000


def batch(rows: int, chance: random.Random) -> pa.Table:
    start = date(2026, 1, 1)
    return pa.table({
        "customer_id": pa.array([chance.randrange(CUSTOMERS) for _ in range(rows)], pa.int64()),
        "ordered_at": pa.array([start + timedelta(days=chance.randrange(365))
                                for _ in range(rows)], pa.date32()),
        "amount": pa.array([chance.randrange(100, 100_000) / 100 for _ in range(rows)],
                           pa.float64()),
        "state": pa.array([chance.choice(("SP", "RJ", "MG", "RS", "BA", "PR"))
                           for _ in range(rows)]),
    })


def query_s(table: DeltaTable, value: int) -> tuple[float, int]:
    dataset = delta_dataset(table)
    start = time.perf_counter()
    rows = dataset.count_rows(filter=pc.field("customer_id") == value)
    return time.perf_counter() - start, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--target-mib", type=float, default=4.0,
                        help="target_file_size of the rewritten files (MiB)")
    args = parser.parse_args()
    chance = random.Random(args.seed)
    root = Path(tempfile.mkdtemp(prefix="afluente-maintenance-"))
    try:
        raw = root / "raw"
        for _ in range(args.files):
            write_deltalake(str(raw), batch(args.rows // args.files, chance), mode="append")
        variants = {"as written": raw, "compacted": root / "compacted",
                    "z-ordered": root / "zordered"}
        shutil.copytree(raw, variants["compacted"])
        shutil.copytree(raw, variants["z-ordered"])
        keep, size = timedelta(days=7), int(args.target_mib * 1024 * 1024)
        done = {
            "compacted": maintain_table(str(variants["compacted"]), MaintenanceWork(
                target_size=size, time_travel=keep, vacuum_after=None), "compacted"),
            "z-ordered": maintain_table(str(variants["z-ordered"]), MaintenanceWork(
                z_order=("customer_id",), target_size=size, time_travel=keep,
                vacuum_after=None), "z-ordered"),
        }
        values = [chance.randrange(CUSTOMERS) for _ in range(args.repeat)]
        tables = {name: DeltaTable(str(path)) for name, path in variants.items()}
        times: dict[str, list[float]] = {name: [] for name in variants}
        counts: dict[str, list[int]] = {name: [] for name in variants}
        names = list(variants)
        for turn, value in enumerate(values):
            for name in names[turn % 3:] + names[:turn % 3]:  # rotate the order
                elapsed, rows = query_s(tables[name], value)
                times[name].append(elapsed)
                counts[name].append(rows)
        assert counts["as written"] == counts["compacted"] == counts["z-ordered"]
        prints = {name: footprint(tables[name], Probe("customer_id", values[0]), repeat=1)
                  for name in variants}
        report = {
            "rows": args.rows, "appends": args.files, "repeat": args.repeat,
            "target_mib": args.target_mib,
            "load_1m_5m_15m": os.getloadavg(),
            "files": {n: p.files for n, p in prints.items()},
            "bytes": {n: p.bytes for n, p in prints.items()},
            "files_a_filter_reads": {n: p.files_matching for n, p in prints.items()},
            "query_ms_median": {n: round(statistics.median(t) * 1000, 2)
                                for n, t in times.items()},
            "rewrite": {n: {"files_removed": d.files_removed, "files_added": d.files_added}
                        for n, d in done.items()},
        }
        for name in ("compacted", "z-ordered"):
            ratio = paired_ratio(times["as written"], times[name])
            report[f"ratio {name} / as written"] = {
                "median": round(ratio.median, 3), "ci95": [round(ratio.ci_low, 3),
                                                           round(ratio.ci_high, 3)]}
        ratio = paired_ratio(times["compacted"], times["z-ordered"])
        report["ratio z-ordered / compacted"] = {
            "median": round(ratio.median, 3), "ci95": [round(ratio.ci_low, 3),
                                                       round(ratio.ci_high, 3)]}
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
