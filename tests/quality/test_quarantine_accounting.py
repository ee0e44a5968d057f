"""bronze = silver + quarantine + dropped + duplicates, run after run, for a `full` and a
`merge` silver table over the same bronze orders; quarantines never grow by re-reading the
same records, and a record fixed upstream leaves them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from afluente.config import load_project
from afluente.runtime import run_project
from afluente.runtime.query import query_project

HEADER = "order_id;customer_id;amount;seq\n"
FIRST = [  # 1-6 good (3 twice), 7 and 8 quarantined, 9 dropped
    "1;1;10;1", "2;1;20;1", "3;2;30;1", "3;2;31;2", "4;2;40;1", "5;3;50;1", "6;3;60;1",
    "7;1;-5;1", "8;2;0;1", "9;;90;1",
]
RULES = """expectations:
  - {name: positive, expression: amount > 0, action: quarantine}
  - {name: has_customer, not_null: customer_id, action: drop}
*/
SELECT CAST(order_id AS INTEGER) AS order_id, CAST(customer_id AS INTEGER) AS customer_id,
       CAST(amount AS INTEGER) AS amount, CAST(seq AS INTEGER) AS seq
FROM bronze.orders
"""
MODELS = {
    "orders": "/* @config\nkind: full\n" + RULES,
    "orders_by_id": "/* @config\nkind: merge\nunique_key: order_id\ndedupe_by: seq\n" + RULES,
}
# the accounting query of docs/quality.md
ACCOUNTING = """
WITH accounted AS (
    SELECT CAST(payload AS JSON) AS a FROM afluente.events
    WHERE type = 'quality_accounted' AND model = 'silver.{name}'
    ORDER BY ts DESC, id DESC LIMIT 1
)
SELECT (SELECT count(*) FROM bronze.orders) AS bronze,
       (SELECT count(*) FROM silver.{name}) AS silver,
       (SELECT count(*) FROM silver.{name}__quarantine) AS quarantine,
       (SELECT CAST(a ->> 'dropped' AS BIGINT) FROM accounted) AS dropped,
       (SELECT CAST(a ->> 'duplicates' AS BIGINT) FROM accounted) AS duplicates
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "models" / "silver").mkdir(parents=True)
    (root / "landing").mkdir()
    (root / "afluente.yml").write_text(
        "name: shop\nwarehouse: warehouse\nsources:\n  orders:\n    type: files\n"
        "    path: landing/orders*.csv\n    format: csv\n    options: {delimiter: ';'}\n"
    )
    for name, text in MODELS.items():
        (root / "models" / "silver" / f"{name}.sql").write_text(text)
    land(root, "orders.csv", FIRST)
    return root


def land(root: Path, name: str, lines: list[str]) -> None:
    (root / "landing" / name).write_text(HEADER + "\n".join(lines) + "\n")


def accounting(root: Path, name: str) -> dict[str, int]:
    row = query_project(load_project(root), ACCOUNTING.format(name=name)).to_pylist()[0]
    return {k: int(v) for k, v in row.items()}


def held(root: Path, name: str) -> list[tuple[int, int]]:
    """(order_id, table version rejected from) of each quarantined row."""
    rows = query_project(load_project(root),
                         f"SELECT _row, _version FROM silver.{name}__quarantine").to_pylist()
    return sorted((json.loads(r["_row"])["order_id"], r["_version"]) for r in rows)


def version(root: Path, name: str) -> int:
    runs = query_project(load_project(root), "SELECT model, version_written FROM "
                         "afluente.model_runs WHERE version_written IS NOT NULL").to_pylist()
    return max(int(r["version_written"]) for r in runs if r["model"] == f"silver.{name}")


def run(root: Path, full_refresh: bool = False) -> None:
    result = run_project(load_project(root), full_refresh=full_refresh)
    assert result.status == "success", [m.reason for m in result.models]


def test_accounting_holds_and_the_quarantine_does_not_grow(shop: Path) -> None:
    run(shop)
    assert accounting(shop, "orders") == {
        "bronze": 10, "silver": 7, "quarantine": 2, "dropped": 1, "duplicates": 0}
    assert accounting(shop, "orders_by_id") == {
        "bronze": 10, "silver": 6, "quarantine": 2, "dropped": 1, "duplicates": 1}
    # order 7 is fixed upstream (its file rewritten): both tables read all of bronze again
    land(shop, "orders.csv", [line.replace("7;1;-5", "7;1;70") for line in FIRST])
    run(shop)
    for name, silver, duplicates in (("orders", 8, 0), ("orders_by_id", 7, 1)):
        assert accounting(shop, name) == {"bronze": 10, "silver": silver, "quarantine": 1,
                                          "dropped": 1, "duplicates": duplicates}
        assert held(shop, name) == [(8, version(shop, name))]
    fixed = {name: version(shop, name) for name in MODELS}
    land(shop, "orders_2.csv", ["10;1;-1;1", "11;3;110;1"])  # merge reads only this file
    run(shop)
    assert accounting(shop, "orders") == {
        "bronze": 12, "silver": 9, "quarantine": 2, "dropped": 1, "duplicates": 0}
    assert accounting(shop, "orders_by_id") == {
        "bronze": 12, "silver": 8, "quarantine": 2, "dropped": 1, "duplicates": 1}
    assert held(shop, "orders_by_id") == [(8, fixed["orders_by_id"]),
                                          (10, version(shop, "orders_by_id"))]
    run(shop, full_refresh=True)
    for name, silver, duplicates in (("orders", 9, 0), ("orders_by_id", 8, 1)):
        assert accounting(shop, name) == {"bronze": 12, "silver": silver, "quarantine": 2,
                                          "dropped": 1, "duplicates": duplicates}
        assert held(shop, name) == [(8, version(shop, name)), (10, version(shop, name))]


def test_an_incremental_batch_adds_only_its_own_rejects(shop: Path) -> None:
    run(shop)
    first = version(shop, "orders_by_id")
    land(shop, "orders_2.csv", ["7;1;70;2", "12;1;120;1", "13;2;-3;1", "14;;140;1"])
    run(shop)
    batch = query_project(load_project(shop), "SELECT CAST(payload AS JSON) -> '$.tally' AS t "
                          "FROM afluente.events WHERE type = 'quality_checked' AND model = "
                          "'silver.orders_by_id' ORDER BY ts DESC, id DESC LIMIT 1")
    tally = json.loads(batch["t"][0].as_py())
    assert (tally["rows"], tally["quarantined"], tally["dropped"]) == (4, 1, 1)
    second = version(shop, "orders_by_id")
    # order 7, fixed by a later event, left; 8 stays from the first version; 13 is new
    assert held(shop, "orders_by_id") == [(8, first), (13, second)]
    silver = query_project(load_project(shop), "SELECT order_id, amount FROM "
                           "silver.orders_by_id WHERE order_id IN (7, 12)").to_pylist()
    assert sorted((r["order_id"], r["amount"]) for r in silver) == [(7, 70), (12, 120)]


INCREMENTAL = {
    "appended": "/* @config\nkind: append\n" + RULES,
    "orders_by_id": MODELS["orders_by_id"],
}


def test_accounting_holds_after_incremental_builds_of_new_files(shop: Path) -> None:
    (shop / "models" / "silver" / "orders.sql").unlink()
    (shop / "models" / "silver" / "appended.sql").write_text(INCREMENTAL["appended"])
    run(shop)
    assert accounting(shop, "appended") == {
        "bronze": 10, "silver": 7, "quarantine": 2, "dropped": 1, "duplicates": 0}
    # 7 fixed by a later event, 12 new, 13 quarantined, 14 dropped
    land(shop, "orders_2.csv", ["7;1;70;2", "12;1;120;1", "13;2;-3;1", "14;;140;1"])
    run(shop)
    assert accounting(shop, "appended") == {
        "bronze": 14, "silver": 9, "quarantine": 3, "dropped": 2, "duplicates": 0}
    # merge: 7's earlier reject is superseded by its fixed row
    assert accounting(shop, "orders_by_id") == {
        "bronze": 14, "silver": 8, "quarantine": 2, "dropped": 2, "duplicates": 2}
    second = version(shop, "orders_by_id")
    # 8 still bad (its reject replaced, not added), 12 updated, 15 twice in the batch
    land(shop, "orders_3.csv", ["8;2;-1;2", "12;1;121;2", "15;3;150;1", "15;3;151;2"])
    run(shop)
    assert accounting(shop, "appended") == {
        "bronze": 18, "silver": 12, "quarantine": 4, "dropped": 2, "duplicates": 0}
    assert accounting(shop, "orders_by_id") == {
        "bronze": 18, "silver": 9, "quarantine": 2, "dropped": 2, "duplicates": 5}
    assert held(shop, "orders_by_id") == [(8, version(shop, "orders_by_id")),
                                          (13, second)]
    for name in INCREMENTAL:
        totals = query_project(load_project(shop), (
            "SELECT CAST(payload AS JSON) ->> 'read' AS r FROM afluente.events WHERE type = "
            f"'quality_accounted' AND model = 'silver.{name}' ORDER BY ts DESC, id DESC LIMIT 1"
        )).to_pylist()
        assert totals == [{"r": "18"}]
    run(shop)  # nothing new: the totals stand
    assert accounting(shop, "orders_by_id")["duplicates"] == 5
