"""A table created with personal columns (tagged, or linked to a tag by lineage) keeps them
out of its Delta file statistics from its first commit: the `_delta_log` of a fresh build
holds no personal value, with no extra commit, and an unchanged run writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.runtime import run_project

COPY = "SELECT customer_id, email, uf FROM silver.customers\n"
MERGED = ("/* @config\nkind: merge\nunique_key: customer_id\n*/\n"
          "SELECT customer_id, upper(email) AS mail, uf FROM silver.customers\n")


def log_actions(table: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for commit in sorted((table / "_delta_log").glob("*.json"))
            for line in commit.read_text().splitlines() if line]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("personal_stats") / "shop"
    scaffold(root)
    (root / "models" / "gold" / "contacts.sql").write_text(COPY)
    (root / "models" / "gold" / "contacts_merged.sql").write_text(MERGED)
    assert run_project(load_project(root)).status == "success"
    return root


def test_no_personal_value_in_the_statistics_of_a_fresh_build(shop: Path) -> None:
    warehouse = shop / "warehouse"
    tables = sorted(p.parent for p in warehouse.glob("*/*/_delta_log"))
    assert [f"{t.parent.name}.{t.name}" for t in tables] == [
        "bronze.customers", "bronze.orders", "gold.contacts", "gold.contacts_merged",
        "gold.monthly_revenue", "gold.revenue_by_state", "silver.customers", "silver.orders"]
    for table in tables:
        actions = log_actions(table)
        assert sorted((table / "_delta_log").glob("*.json")) == [
            table / "_delta_log" / "00000000000000000000.json"], table  # no extra commit
        text = json.dumps(actions).lower()
        for value in ("ana@example.com", "bruno@example.com", "ana souza", "bruno lima"):
            assert text.count(value) == 0, (table, value)
    merged = json.loads(str(next(a for a in log_actions(warehouse / "gold" / "contacts_merged")
                                  if "add" in a)["add"]["stats"]))
    # an incremental kind's table (created through a MERGE-ready `Target`) keeps statistics
    # of its other columns: only the personal ones are left out
    assert merged["minValues"] == {"customer_id": 1, "uf": "MG"}
    assert merged["maxValues"] == {"customer_id": 3, "uf": "SP"}
    kept = {}
    for name in ("bronze/customers", "silver/customers", "gold/contacts", "bronze/orders"):
        (meta,) = [a["metaData"] for a in log_actions(warehouse / name) if "metaData" in a]
        kept[name] = meta["configuration"].get("delta.dataSkippingStatsColumns")
    assert kept == {  # bronze: its email feeds the tagged one, its name is named so
        "bronze/customers": "customer_id,uf,_source,_ingested_at,_run_id,_row_hash",
        "silver/customers": "customer_id,uf", "gold/contacts": "customer_id,uf",
        "bronze/orders": None}


def test_an_unchanged_run_writes_nothing(shop: Path) -> None:
    before = sorted(p.name for p in shop.glob("warehouse/*/*/_delta_log/*.json"))
    assert run_project(load_project(shop)).status == "success"
    assert sorted(p.name for p in shop.glob("warehouse/*/*/_delta_log/*.json")) == before
