"""The demo's dirty data meets its expectations: quarantined and dropped rows are visible."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from afluente.config import load_project
from afluente.demo.build import prepare_demo
from afluente.model import load_graph
from afluente.runtime import run_project
from afluente.runtime.quality_validate import validate_expectations
from afluente.runtime.query import query_project


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    prepare_demo(root, orders=1_500, seed=5)
    project = load_project(root)
    assert validate_expectations(project, load_graph(project)) > 10  # checked before running
    result = run_project(project)
    assert result.status == "success", [m.reason for m in result.failed]
    return root


def query(root: Path, sql: str) -> list[dict[str, object]]:
    return query_project(load_project(root), sql).to_pylist()


def test_every_action_is_recorded(demo: Path) -> None:
    found = query(demo, """SELECT action, count(*) AS rules, sum(rows_failed) AS failed
                           FROM afluente.quality_results GROUP BY action""")
    by_action = {r["action"]: r for r in found}
    assert set(by_action) == {"warn", "drop", "quarantine", "fail"}
    assert by_action["fail"]["failed"] == 0  # keys hold: nothing stops the demo
    assert all(int(str(by_action[a]["failed"])) > 0 for a in ("warn", "drop", "quarantine"))


def test_quarantined_items_name_their_rule_and_leave_the_fact(demo: Path) -> None:
    quarantined = query(demo, "SELECT _rules, _reason, _row FROM gold.fct_order_items__quarantine")
    assert quarantined
    assert all(r["_rules"] == ["product_in_catalog"] for r in quarantined)
    keys = {(json.loads(str(r["_row"]))["order_id"], json.loads(str(r["_row"]))["item_seq"])
            for r in quarantined}
    kept = query(demo, "SELECT order_id, item_seq FROM gold.fct_order_items")
    assert not keys & {(r["order_id"], r["item_seq"]) for r in kept}
    recorded = query(demo, """SELECT rows_failed FROM afluente.quality_results
                              WHERE model = 'gold.fct_order_items'
                              AND rule = 'product_in_catalog'""")
    assert recorded == [{"rows_failed": len(quarantined)}]


def test_dropped_items_are_counted_and_gone(demo: Path) -> None:
    dropped = query(demo, """SELECT rows_evaluated, rows_failed FROM afluente.quality_results
                             WHERE model = 'gold.fct_order_items' AND rule = 'purchase_dated'""")
    assert dropped[0]["rows_failed"] > 0
    left = query(demo, "SELECT count(*) AS n, count_if(date_key = -1) AS undated "
                       "FROM gold.fct_order_items")[0]
    assert left["undated"] == 0
    items = query(demo, "SELECT count(*) AS n FROM silver.order_items")[0]["n"]
    quarantined = query(demo, "SELECT count(*) AS n FROM gold.fct_order_items__quarantine")
    assert left["n"] == int(str(items)) - int(str(dropped[0]["rows_failed"])) - int(
        str(quarantined[0]["n"]))
