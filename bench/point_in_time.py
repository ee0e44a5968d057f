"""Point-in-time training-set build: afluente.features.training_set vs a hand-written DuckDB
ASOF JOIN (RESULTS §40).

1M label rows (entity, label time) and 10 feature tables (each one row per entity and
event time, several per entity), all in one in-memory DuckDB. Each arm materialises the
training set as Arrow. The arms alternate (A, B, A, B, ...), so a slow spell of a shared
machine hits both members of a pair; the per-pair ratio B/A is summarised with
bench/paired_stats.py. Optionally a third arm: the window form other engines run
(`pit_sql.window_sql`), on DuckDB.

    PYTHONPATH=src python bench/point_in_time.py --labels 1000000 --features 10 --pairs 7
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paired_stats import paired_ratio, spread

from afluente.features import FeatureTable, Labels, feature, training_set
from afluente.features.pit_sql import window_sql
from afluente.features.spec import resolve

DAYS = 365


def build_data(con: duckdb.DuckDBPyConnection, labels: int, features: int, entities: int,
               rows_per_entity: int) -> None:
    con.execute("SELECT setseed(0.42)")
    con.execute(f"""CREATE TABLE labels AS
        SELECT CAST(floor(random() * {entities}) AS BIGINT) AS entity_id,
               TIMESTAMP '2024-01-01' + to_seconds(CAST(floor(random() * {DAYS} * 86400)
                                                        AS BIGINT)) AS label_time,
               CAST(random() < 0.3 AS INTEGER) AS label
        FROM range({labels})""")
    for i in range(features):
        con.execute(f"""CREATE TABLE f{i} AS
            SELECT entity_id, event_time, random() * 100 AS value_{i}
            FROM (SELECT DISTINCT
                    CAST(r % {entities} AS BIGINT) AS entity_id,
                    TIMESTAMP '2024-01-01' + to_seconds(CAST(floor(random() * {DAYS} * 86400)
                                                             AS BIGINT)) AS event_time
                  FROM range({entities * rows_per_entity}) AS t(r))""")


def hand_written(features: int) -> str:
    columns = ", ".join(f"f{i}.value_{i}" for i in range(features))
    joins = " ".join(
        f"ASOF LEFT JOIN f{i} ON l.entity_id = f{i}.entity_id AND l.label_time >= f{i}.event_time"
        for i in range(features))
    return f"SELECT l.*, {columns} FROM labels AS l {joins}"


def arms(con: duckdb.DuckDBPyConnection, features: int) -> dict[str, Callable[[], Any]]:
    def afluente_arm() -> Any:
        return training_set(
            con.sql("SELECT * FROM labels"), label_time="label_time",
            features={f"f{i}": feature(con.sql(f"SELECT * FROM f{i}"), entity_key="entity_id",
                                       event_time="event_time") for i in range(features)},
        ).to_arrow_table()

    raw = hand_written(features)
    schema = {"entity_id": "BIGINT", "label_time": "TIMESTAMP", "label": "INTEGER"}
    resolved = resolve(Labels("labels", "label_time"), schema,
                       [FeatureTable(f"f{i}", ("entity_id",), "event_time")
                        for i in range(features)],
                       {f"f{i}": {"entity_id": "BIGINT", "event_time": "TIMESTAMP",
                                  f"value_{i}": "DOUBLE"} for i in range(features)})
    window = window_sql("labels", "label_time", list(schema), resolved, exclusive=False)
    return {"hand_asof": lambda: con.sql(raw).to_arrow_table(), "afluente": afluente_arm,
            "window_form": lambda: con.sql(window).to_arrow_table()}


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--rows-per-entity", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=7, help="0: only check the results")
    parser.add_argument("--window-runs", type=int, default=1, help="0: leave the window out")
    parser.add_argument("--out", type=Path, default=Path("bench/results/point_in_time.json"))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    con = duckdb.connect()
    build_data(con, args.labels, args.features, args.entities, args.rows_per_entity)
    run = arms(con, args.features)
    a_result, b_result = run["hand_asof"](), run["afluente"]()  # warm-up, and the check
    assert a_result.num_rows == b_result.num_rows == args.labels
    order = [(c, "ascending") for c in a_result.column_names]  # every column: a total order
    same = a_result.sort_by(order).equals(b_result.sort_by(order))
    times: dict[str, list[float]] = {"hand_asof": [], "afluente": [], "window_form": []}
    for _ in range(args.pairs):
        for name in ("hand_asof", "afluente"):
            times[name].append(timed(run[name])[0])
    for _ in range(args.window_runs):
        times["window_form"].append(timed(run["window_form"])[0])
    ratio = paired_ratio(times["hand_asof"], times["afluente"]) if args.pairs else None
    report = {
        "labels": args.labels, "features": args.features, "entities": args.entities,
        "feature_rows": [con.sql(f"SELECT count(*) FROM f{i}").fetchone()[0]  # type: ignore[index]
                         for i in range(args.features)],
        "identical_results": same, "seconds": times,
        "medians": {k: statistics.median(v) for k, v in times.items() if v},
        "spread": {k: spread(v).text(3) for k, v in times.items() if v},
        "afluente_over_hand": None if ratio is None else {
            "median": ratio.median, "ci": [ratio.ci_low, ratio.ci_high],
            "verdict": ratio.verdict()},
        "duckdb": duckdb.__version__, "python": platform.python_version(),
        "load_before_after": [load_before, os.getloadavg()[0]],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
