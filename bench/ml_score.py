"""Scoring 1M rows with a `score` model (issue 17), against the floor: the same registered
model's `predict_proba` on the same rows already in a pandas frame.

A project trains a logistic regression on 2,000 customers (two features) and scores a
silver table of `--rows` prospects. Each round alternates: (a) `afluente run -s
gold.repeat_scores --full-refresh` in this process (read the rows from DuckDB into pandas,
the scoring function, predict, write the Delta table), (b) the bare `predict_proba` +
`predict` of the loaded model. Medians of the rounds are reported, rows/s of each.

    .venv/bin/python bench/ml_score.py --rows 1000000 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import environment, write_result
from tests.ml.conftest import SCORE_MODEL, TRAIN_MODEL, customers_csv, write

PROSPECTS = """\
SELECT range AS customer_id,
       (hash(range) % 10000) / 10000.0 AS x1,
       (hash(range * 7 + 1) % 10000) / 10000.0 AS x2
FROM range({rows})
"""


def project(root: Path, rows: int) -> Path:
    write(root / "afluente.yml", "name: bench\n")
    write(root / "seeds" / "customers.csv", customers_csv(2000))
    write(root / "models" / "silver" / "customers.sql",
          "SELECT customer_id, x1, x2, repeat FROM bronze.customers\n")
    write(root / "models" / "silver" / "prospects.sql", PROSPECTS.format(rows=rows))
    write(root / "models" / "gold" / "repeat_model.py", TRAIN_MODEL)
    write(root / "models" / "gold" / "repeat_scores.py", SCORE_MODEL)
    return root


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from afluente.config import load_project
    from afluente.errors import Location
    from afluente.ml.registry import resolve
    from afluente.ml.scoring import load
    from afluente.ml.tracking import Tracking, session
    from afluente.model import TableRef
    from afluente.runtime import run_project
    from afluente.storage import Warehouse

    root = project(Path(tempfile.mkdtemp(prefix="ml-score-")) / "bench", args.rows)
    loaded = load_project(root)
    first = run_project(loaded)
    assert first.status == "success", [m.reason for m in first.failed]
    tracking = Tracking.for_project(root)
    with session(tracking) as client:
        model = resolve(client, "gold.repeat_model", None, None, Location(root), "bench")
    estimator = load(tracking, model)
    frame = Warehouse(loaded.warehouse_uri).dataset(
        TableRef("silver", "prospects")).to_table().to_pandas()[["x1", "x2"]]
    afluente_s, floor_s = [], []
    for _ in range(args.rounds):
        started = time.perf_counter()
        done = run_project(load_project(root), "gold.repeat_scores", full_refresh=True)
        afluente_s.append(time.perf_counter() - started)
        (scored,) = done.models
        assert scored.status == "success" and scored.rows == args.rows, scored.reason
        started = time.perf_counter()
        estimator.predict_proba(frame)
        estimator.predict(frame)
        floor_s.append(time.perf_counter() - started)
    result = {
        "rows": args.rows, "rounds": args.rounds, "afluente_s": afluente_s, "floor_s": floor_s,
        "afluente_rows_per_s": round(args.rows / statistics.median(afluente_s)),
        "floor_rows_per_s": round(args.rows / statistics.median(floor_s)),
        "load": os.getloadavg(), "environment": environment(),
    }
    path = write_result("ml_score", result)
    print(json.dumps({k: v for k, v in result.items() if k != "environment"}, indent=1))
    print(path)


if __name__ == "__main__":
    main()
