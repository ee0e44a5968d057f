"""The bundled demo project doubles as the integration fixture: build it once, check it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable

from afluente.config import load_project
from afluente.demo.build import prepare_demo
from afluente.runtime import run_project

GOLD = {
    "dim_customer", "dim_date", "dim_product", "dim_seller",
    "fct_orders", "fct_order_items", "revenue_by_state_month",
}
CLI = [sys.executable, "-m", "afluente.cli"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    prepare_demo(root, orders=3000, seed=7)
    result = run_project(load_project(root))
    assert result.status == "success", [m.reason for m in result.failed]
    return root


def afluente(demo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "-p", str(demo), *args], capture_output=True, text=True, check=False
    )


def stored_tables(demo: Path) -> list[Path]:
    """`<warehouse>/<layer>/<table>` folders; `_environments`, `_staging` are afluente's own."""
    return sorted(p for p in (demo / "warehouse").glob("*/*")
                  if not p.parent.name.startswith("_"))


def test_every_demo_table_is_delta_readable_by_deltalake_and_polars(demo: Path) -> None:
    tables = stored_tables(demo)
    names = {f"{t.parent.name}.{t.name}" for t in tables}
    assert {f"gold.{g}" for g in GOLD} <= names
    assert {"bronze.orders", "silver.orders", "silver.customers"} <= names
    for table in tables:
        delta = DeltaTable(str(table))
        assert delta.version() == 0
        frame = pl.read_delta(str(table))
        assert frame.height == delta.to_pyarrow_dataset().count_rows()


def test_gold_star_schema_is_consistent(demo: Path) -> None:
    facts = pl.read_delta(str(demo / "warehouse/gold/fct_orders"))
    orders = pl.read_delta(str(demo / "warehouse/silver/orders"))
    assert facts.height == orders.height == orders["order_id"].n_unique()


def test_query_prints_json(demo: Path) -> None:
    done = afluente(demo, "query", "--format", "json", "select count(*) as n from gold.fct_orders")
    assert done.returncode == 0, done.stderr
    orders = pl.read_delta(str(demo / "warehouse/silver/orders")).height
    assert json.loads(done.stdout) == [{"n": orders}]


def test_second_demo_run_changes_nothing(demo: Path) -> None:
    before = {p: DeltaTable(str(p)).version() for p in stored_tables(demo)}
    done = afluente(demo, "--json", "run")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert {m["status"] for m in payload["models"]} == {"up_to_date"}
    assert {p: DeltaTable(str(p)).version() for p in before} == before


def test_history_and_runs_show_the_build(demo: Path) -> None:
    history = json.loads(afluente(demo, "--json", "history", "gold.fct_orders").stdout)
    assert [h["version"] for h in history] == [0]
    # staged Parquet is committed as a new table (CREATE TABLE); results the Delta writer
    # takes (nested or engine-only types) show as WRITE: either way the first build
    assert history[0]["operation"] in {"CREATE TABLE", "WRITE"}
    runs = json.loads(afluente(demo, "--json", "runs").stdout)
    assert history[0]["run_id"] in {r["run_id"] for r in runs}
