"""Encrypted columns on every engine (docs/governance.md#encryption-at-rest): a project
whose customers' names and e-mails are sealed builds a full model, a merge, an SCD2
snapshot and a time_range model from them, twice (a second customers file changes one
e-mail and adds a customer); every engine opens the sealed inputs, computes on their text
and writes them sealed, with the same values. Values are read back by delta-rs and opened
with the project's cipher; no data file or log holds a sealed value in clear."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.engines.decrypt import opened_table
from afluente.governance.column_cipher import open_cipher
from afluente.governance.key_admin import init_keys
from afluente.model import TableRef
from afluente.runtime.runner import RunResult, run_project
from governance.leak_search import occurrences

ENCRYPTION = """
governance:
  encryption:
    key: {source: env}
    subject: email
"""
MODELS = {
    "gold/customer_merge.sql": "kind: merge\nunique_key: customer_id",
    "gold/customer_snapshot.sql": "kind: snapshot\nkeys: [customer_id]",
}
COPY = "SELECT customer_id, name, email, uf FROM silver.customers"
DAILY = """/* @config
kind: time_range
time_column: ordered_at
*/
SELECT o.order_id, o.ordered_at, c.email
FROM silver.orders o JOIN silver.customers c ON o.customer_id = c.customer_id
"""
MORE = ("customer_id,name,email,uf\n2,Bruno Lima,bruno.lima@example.com,RJ\n"
        "5,Zé,ze@example.com,BA\n")
SEALED = ["ana@example.com", "ana souza", "bruno@example.com", "bruno lima",
          "bruno.lima@example.com", "carla@example.com", "carla dias", "ze@example.com"]


@pytest.fixture(scope="module")
def master_key() -> Iterator[str]:
    before = os.environ.get("AFLUENTE_MASTER_KEY")
    os.environ["AFLUENTE_MASTER_KEY"] = key = base64.b64encode(os.urandom(32)).decode()
    yield key
    if before is None:
        del os.environ["AFLUENTE_MASTER_KEY"]
    else:
        os.environ["AFLUENTE_MASTER_KEY"] = before


@pytest.fixture(scope="module")
def built(engine_config: str, master_key: str,
          tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[RunResult]]:
    root = tmp_path_factory.mktemp("encrypted-contract") / "shop"
    scaffold(root)
    config = (root / "afluente.yml").read_text().replace("engine: duckdb", engine_config)
    config = config.replace("path: landing/customers.csv", "path: landing/customers*.csv")
    (root / "afluente.yml").write_text(config + ENCRYPTION)
    for scaffolded in ("gold/monthly_revenue.py", "gold/revenue_by_state.sql"):
        (root / "models" / scaffolded).unlink()
    silver = root / "models" / "silver" / "customers.sql"  # the latest row per customer
    silver.write_text(silver.read_text().replace(
        "/* @config\n", "/* @config\nkind: merge\nunique_key: customer_id\n"))
    for path, header in MODELS.items():
        (root / "models" / path).write_text(f"/* @config\n{header}\n*/\n{COPY}\n")
    (root / "models" / "gold" / "email_orders.sql").write_text(DAILY)
    init_keys(load_project(root))
    runs = [run_project(load_project(root))]
    (root / "landing" / "customers_2.csv").write_text(MORE, encoding="utf-8")
    runs.append(run_project(load_project(root)))
    return root, runs


def opened(root: Path, name: str) -> list[dict[str, Any]]:
    """The latest version of `name`, its sealed columns opened, as sorted rows."""
    ref = TableRef.parse(name)
    cipher = open_cipher(load_project(root))
    assert cipher is not None
    stored = DeltaTable(str(root / "warehouse" / ref.layer / ref.name)).to_pyarrow_table()
    assert cipher.encrypted(ref) & set(stored.column_names), name  # something is sealed
    rows = opened_table(ref, stored, cipher).to_pylist()  # type: ignore[union-attr]
    return sorted(rows, key=lambda r: tuple(str(v) for v in r.values()))


def test_both_runs_build_every_model(built: tuple[Path, list[RunResult]]) -> None:
    for run in built[1]:
        assert run.status == "success", [(str(m.ref), m.error) for m in run.models if m.error]


def test_no_file_holds_a_sealed_value_in_clear(built: tuple[Path, list[RunResult]]) -> None:
    assert occurrences(built[0] / "warehouse", SEALED) == []


def test_the_merge_holds_the_latest_values(built: tuple[Path, list[RunResult]]) -> None:
    assert [(r["customer_id"], r["email"]) for r in opened(built[0], "gold.customer_merge")
            ] == [(1, "ana@example.com"), (2, "bruno.lima@example.com"),
                  (3, "carla@example.com"), (5, "ze@example.com")]


def test_the_snapshot_closes_the_changed_email(built: tuple[Path, list[RunResult]]) -> None:
    bruno = [(r["email"], r["is_current"]) for r in opened(built[0], "gold.customer_snapshot")
             if r["customer_id"] == 2]
    assert sorted(bruno) == [("bruno.lima@example.com", True), ("bruno@example.com", False)]


def test_the_time_range_model_opens_its_joined_input(
        built: tuple[Path, list[RunResult]]) -> None:
    emails = {r["email"] for r in opened(built[0], "gold.email_orders")}
    assert "ana@example.com" in emails
    assert emails <= {"ana@example.com", "bruno@example.com", "bruno.lima@example.com",
                      "carla@example.com"}
