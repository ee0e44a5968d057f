"""Governed reads against unmasked ones (issue 15, RESULTS §23, §29): the same query over one
table, run in-process through `query_project`, by the ADMIN (no rewriting) and by a role
token whose reads are rewritten with masks and a row filter. Runs alternate A B A B; the
per-pair ratio B/A is reported with its median and bootstrap interval.

    PYTHONPATH=src python bench/governed_read.py --rows 1000000 --pairs 7
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from paired_stats import paired_ratio, spread

from afluente.config import load_project
from afluente.governance.identity import create_token
from afluente.runtime import run_project
from afluente.runtime.query import query_project
from afluente.state.access_state import AccessStore

CONFIG = """name: governed_bench
sources:
  people: {type: files, path: landing/people.parquet, format: parquet}
governance:
  roles:
    masked:
      grants: [select: silver]
      masks: {silver.people.cpf: partial, silver.people.email: redact}
    masked_filtered:
      grants: [select: silver]
      masks: {silver.people.cpf: partial, silver.people.email: redact}
      row_filters: {silver.people: "uf <> 'XX'"}
    pseudonymised:
      grants: [select: silver]
      masks: {silver.people.cpf: partial, silver.people.email: hmac}
      row_filters: {silver.people: "uf <> 'XX'"}
    hashed:
      grants: [select: silver]
      masks: {silver.people.cpf: partial, silver.people.email: hash}
      row_filters: {silver.people: "uf <> 'XX'"}
"""
MODEL = """/* @config
columns: {cpf: {tags: [pii]}, email: {tags: [pii]}}
*/
SELECT id, cpf, email, uf, amount FROM bronze.people
"""
ROLES = ("masked", "masked_filtered", "pseudonymised", "hashed")  # `hashed`: RESULTS §29
QUERIES = {
    "scan": "SELECT id, cpf, email, uf, amount FROM silver.people",
    "aggregate": "SELECT uf, count(DISTINCT email) AS emails, max(cpf) AS cpf, "
                 "sum(amount) AS amount FROM silver.people GROUP BY uf",
}


def build(root: Path, rows: int) -> None:
    (root / "landing").mkdir(parents=True)
    (root / "models" / "silver").mkdir(parents=True)
    ids = pa.array(range(rows), pa.int64())
    table = pa.table({
        "id": ids,
        "cpf": [f"{i % 1000:03d}.{i % 997:03d}.{i % 991:03d}-{i % 97:02d}" for i in range(rows)],
        "email": [f"person{i}@example.com" for i in range(rows)],
        "uf": [("SP", "RJ", "MG", "BA", "RS")[i % 5] for i in range(rows)],
        "amount": [float(i % 1000) for i in range(rows)],
    })
    pq.write_table(table, root / "landing" / "people.parquet")
    (root / "afluente.yml").write_text(CONFIG)
    (root / "models" / "silver" / "people.sql").write_text(MODEL)
    assert run_project(load_project(root)).status == "success"


def timed(root: Path, sql: str, token: str | None) -> float:
    if token is None:
        os.environ.pop("AFLUENTE_TOKEN", None)
    else:
        os.environ["AFLUENTE_TOKEN"] = token
    started = time.perf_counter()
    query_project(load_project(root), sql)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=7)
    args = parser.parse_args()
    os.environ["AFLUENTE_MASK_KEY"] = "bench-key"
    report: dict[str, object] = {"rows": args.rows, "pairs": args.pairs,
                                 "load": os.getloadavg()}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "p"
        build(root, args.rows)
        with AccessStore.open(load_project(root).state_url) as store:
            tokens = {role: create_token(store, f"service:{role}", role, "user:bench")
                      for role in ROLES}
        for name, sql in QUERIES.items():
            timed(root, sql, None)  # warm the file cache once
            for role, token in tokens.items():
                admin, governed = [], []
                for _ in range(args.pairs):
                    admin.append(timed(root, sql, None))
                    governed.append(timed(root, sql, token))
                ratio = paired_ratio(admin, governed)
                report[f"{name}/{role}"] = {
                    "admin_s": spread(admin).text(3), "governed_s": spread(governed).text(3),
                    "ratio_median": round(ratio.median, 3),
                    "ratio_ci": [round(ratio.ci_low, 3), round(ratio.ci_high, 3)]}
    report["load_after"] = os.getloadavg()
    sys.stdout.write(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
