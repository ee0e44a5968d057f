"""Incremental kinds in projects: declared in the header, planned, run, re-run as no-ops."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from afluente.config import load_project
from afluente.errors import ConfigError
from afluente.model import TableRef
from afluente.model.discover import load_graph
from afluente.runtime import plan_project, run_project
from afluente.storage import Warehouse

from .conftest import write

ORDERS = TableRef("silver", "orders")


def add_orders(project_dir: Path, name: str, lines: list[str]) -> None:
    header = "order_id;customer_id;amount;ordered_at\n"
    write(project_dir / "landing" / name, header + "\n".join(lines) + "\n")


def rows(project_dir: Path, ref: TableRef, order: str) -> list[dict[str, object]]:
    table = Warehouse(load_project(project_dir).warehouse_uri).dataset(ref).to_table()
    return sorted(table.to_pylist(), key=lambda r: tuple(str(r[c]) for c in order.split(",")))


def version(project_dir: Path, ref: TableRef) -> int | None:
    return Warehouse(load_project(project_dir).warehouse_uri).version(ref)


def status(project_dir: Path, full_refresh: bool = False) -> dict[str, tuple[str, str]]:
    result = run_project(load_project(project_dir), full_refresh=full_refresh)
    return {str(m.ref): (m.status, m.reason) for m in result.models}


ORDERS_SQL = """
SELECT
    CAST(order_id AS INTEGER) AS order_id,
    CAST(customer_id AS INTEGER) AS customer_id,
    CAST(replace(amount, ',', '.') AS DECIMAL(18, 2)) AS amount,
    CAST(ordered_at AS DATE) AS ordered_at
FROM bronze.orders
"""


def orders_model(project_dir: Path, header: str) -> None:
    write(project_dir / "models" / "silver" / "orders.sql", f"/* @config\n{header}*/{ORDERS_SQL}")


def test_append_reads_only_new_files_and_rerun_writes_nothing(project_dir: Path) -> None:
    orders_model(project_dir, "kind: append\n")
    first = status(project_dir)
    assert first["silver.orders"] == ("success", "full: never built")
    assert len(rows(project_dir, ORDERS, "order_id")) == 4
    add_orders(project_dir, "orders_2.csv", ["14;2;10,00;2026-03-01", "15;1;20,00;2026-03-02"])
    second = status(project_dir)
    assert second["silver.orders"][0] == "success"
    assert re.fullmatch(r"incremental: \d+ new file\(s\) of `bronze.orders` \(v0 → v1\)",
                        second["silver.orders"][1])
    got = rows(project_dir, ORDERS, "order_id")
    assert [r["order_id"] for r in got] == [10, 11, 12, 13, 14, 15]
    before = version(project_dir, ORDERS)
    third = status(project_dir)
    assert third["silver.orders"][0] == "up_to_date"
    assert version(project_dir, ORDERS) == before
    rebuilt = status(project_dir, full_refresh=True)
    assert rebuilt["silver.orders"][1].startswith("full: --full-refresh")
    after = [r["order_id"] for r in rows(project_dir, ORDERS, "order_id")]
    assert after == [10, 11, 12, 13, 14, 15]


def test_plan_says_incremental_for_an_upstream_that_appended(project_dir: Path) -> None:
    orders_model(project_dir, "kind: append\n")
    status(project_dir)
    add_orders(project_dir, "orders_2.csv", ["14;2;10,00;2026-03-01"])
    run_project(load_project(project_dir), "bronze.orders")
    step = {str(s.ref): s for s in plan_project(load_project(project_dir)).plan.steps}
    assert step["silver.orders"].mode == "incremental"
    assert re.fullmatch(r"incremental: \d+ new file\(s\) of `bronze.orders` \(v0 → v1\)",
                        step["silver.orders"].reason)


def test_append_over_a_rewritten_upstream_rebuilds_and_says_why(project_dir: Path) -> None:
    orders_model(project_dir, "kind: append\n")
    write(project_dir / "models" / "gold" / "order_log.sql",
          "/* @config\nkind: append\n*/\nSELECT order_id, amount FROM silver.orders\n")
    orders_model(project_dir, "kind: full\n")
    status(project_dir)
    add_orders(project_dir, "orders_2.csv", ["14;2;10,00;2026-03-01"])
    second = status(project_dir)
    assert second["gold.order_log"][0] == "success"
    assert second["gold.order_log"][1].startswith(
        "full: `silver.orders` was rewritten or had rows removed since v0"
    )
    assert len(rows(project_dir, TableRef("gold", "order_log"), "order_id")) == 5


def test_merge_upserts_new_rows_by_key(project_dir: Path) -> None:
    orders_model(project_dir, "kind: merge\nunique_key: order_id\n")
    status(project_dir)
    add_orders(project_dir, "orders_2.csv", ["10;1;99,00;2026-01-05", "14;2;10,00;2026-03-01"])
    assert status(project_dir)["silver.orders"][0] == "success"
    got = {r["order_id"]: str(r["amount"]) for r in rows(project_dir, ORDERS, "order_id")}
    assert got == {10: "99.00", 11: "80.00", 12: "35.90", 13: "210.00", 14: "10.00"}
    commit = Warehouse(load_project(project_dir).warehouse_uri).last_commit(ORDERS)
    assert commit is not None and commit.inputs == {"bronze.orders": 1}
    assert commit.run_id is not None and commit.fingerprint


def test_merge_with_duplicate_keys_fails_and_leaves_the_table(project_dir: Path) -> None:
    orders_model(project_dir, "kind: merge\nunique_key: order_id\n")
    status(project_dir)
    before = version(project_dir, ORDERS)
    add_orders(project_dir, "orders_2.csv", ["14;1;1,00;2026-03-01", "14;2;2,00;2026-03-02"])
    failed = status(project_dir)
    state, reason = failed["silver.orders"]
    assert state == "failed"
    assert "duplicated value(s) of unique key (order_id), e.g. order_id=14 (2 rows)" in reason
    assert "dedupe_by" in reason
    assert version(project_dir, ORDERS) == before


def test_merge_dedupe_by_keeps_the_latest(project_dir: Path) -> None:
    orders_model(project_dir, "kind: merge\nunique_key: [order_id]\ndedupe_by: amount\n")
    add_orders(project_dir, "orders_2.csv", ["14;1;1,00;2026-03-01", "14;2;2,00;2026-03-02"])
    assert status(project_dir)["silver.orders"][0] == "success"
    got = [r for r in rows(project_dir, ORDERS, "order_id") if r["order_id"] == 14]
    assert [(r["customer_id"], str(r["amount"])) for r in got] == [(2, "2.00")]


def test_null_keys_fail_or_are_quarantined(project_dir: Path) -> None:
    orders_model(project_dir, "kind: merge\nunique_key: order_id\n")
    status(project_dir)
    before = version(project_dir, ORDERS)
    add_orders(project_dir, "orders_2.csv", [";1;1,00;2026-03-01", "14;2;2,00;2026-03-02"])
    state, reason = status(project_dir)["silver.orders"]
    assert state == "failed" and "1 source row(s) have a NULL in key column(s) order_id" in reason
    assert version(project_dir, ORDERS) == before
    orders_model(project_dir, "kind: merge\nunique_key: order_id\non_null_key: quarantine\n")
    assert status(project_dir)["silver.orders"][0] == "success"
    assert 14 in [r["order_id"] for r in rows(project_dir, ORDERS, "order_id")]
    kept = rows(project_dir, TableRef("silver", "orders__quarantine"), "_row")
    assert [(r["_rules"], json.loads(r["_row"])["customer_id"]) for r in kept] == [
        (["null_key"], 1)
    ]
    assert kept[0]["_reason"] == "null_key: NULL in key column(s) order_id"


CHANGES = "customer_id,city,seq,op\n"


def test_apply_changes_scd2_hides_bookkeeping_from_readers(project_dir: Path) -> None:
    project_yml = project_dir / "afluente.yml"
    project_yml.write_text(
        project_yml.read_text() + "  customer_changes:\n    type: files\n"
        "    path: landing/changes/*.csv\n    format: csv\n"
    )
    write(project_dir / "landing" / "changes" / "c1.csv",
          CHANGES + "1,Recife,1,U\n2,Natal,1,U\n1,Olinda,3,U\n")
    write(
        project_dir / "models" / "silver" / "customer_history.sql",
        "/* @config\nkind: apply_changes\nkeys: customer_id\nsequence_by: seq\n"
        "apply_as_deletes: \"op = 'D'\"\nexcept_columns: [op]\nscd_type: 2\n*/\n"
        "SELECT CAST(customer_id AS INTEGER) AS customer_id, city, CAST(seq AS INTEGER) AS seq,"
        " op FROM bronze.customer_changes\n",
    )
    write(project_dir / "models" / "gold" / "current_cities.sql",
          "SELECT customer_id, city FROM silver.customer_history WHERE is_current\n")
    write(project_dir / "models" / "gold" / "history_rows.sql",
          "SELECT count(*) AS n FROM silver.customer_history\n")
    assert status(project_dir)["silver.customer_history"][0] == "success"
    # late event (seq 2) splits customer 1's history; customer 2 is deleted at seq 5
    write(project_dir / "landing" / "changes" / "c2.csv", CHANGES + "1,Paulista,2,U\n2,,5,D\n")
    second = status(project_dir)
    assert second["silver.customer_history"][1].startswith("incremental: ")
    hist = rows(project_dir, TableRef("silver", "customer_history"), "customer_id,seq")
    visible = [(r["customer_id"], r["city"], r["valid_from"], r["valid_to"], r["is_current"])
               for r in hist if r["__cdc_visible"]]
    assert visible == [
        (1, "Recife", 1, 2, False), (1, "Paulista", 2, 3, False), (1, "Olinda", 3, None, True),
        (2, "Natal", 1, 5, False),
    ]
    current = rows(project_dir, TableRef("gold", "current_cities"), "customer_id")
    assert current == [{"customer_id": 1, "city": "Olinda"}]
    assert rows(project_dir, TableRef("gold", "history_rows"), "n") == [{"n": 4}]
    before = version(project_dir, TableRef("silver", "customer_history"))
    assert status(project_dir)["silver.customer_history"][0] == "up_to_date"
    assert version(project_dir, TableRef("silver", "customer_history")) == before


def test_snapshot_closes_deleted_and_changed_keys(project_dir: Path) -> None:
    write(
        project_dir / "models" / "gold" / "customer_snapshots.sql",
        "/* @config\nkind: snapshot\nkeys: customer_id\ntrack_columns: [uf]\n*/\n"
        "SELECT customer_id, name, uf FROM silver.customers\n",
    )
    status(project_dir)
    write(project_dir / "landing" / "customers.csv",
          "customer_id,name,email,uf\n1,ana souza,ANA@EXAMPLE.COM,rj\n2,Bruno Lima,b@x.com,RJ\n")
    assert status(project_dir)["gold.customer_snapshots"][0] == "success"
    got = rows(project_dir, TableRef("gold", "customer_snapshots"), "customer_id,valid_from")
    summary = [(r["customer_id"], r["uf"], r["is_current"]) for r in got]
    assert summary == [(1, "SP", False), (1, "RJ", True), (2, "RJ", True), (3, "MG", False)]


def test_time_range_rebuilds_only_the_touched_partitions(project_dir: Path) -> None:
    write(
        project_dir / "models" / "gold" / "daily_revenue.sql",
        "/* @config\nkind: time_range\ntime_column: ordered_at\npartition_by: day\n*/\n"
        "SELECT ordered_at, count(*) AS orders, sum(amount) AS revenue "
        "FROM silver.orders_log GROUP BY ordered_at\n",
    )
    write(project_dir / "models" / "silver" / "orders_log.sql",
          "/* @config\nkind: append\n*/\n" + ORDERS_SQL.replace("\n", " ").replace(
              "FROM bronze.orders", "FROM bronze.orders"))
    status(project_dir)
    add_orders(project_dir, "orders_2.csv", ["14;2;10,00;2026-01-05", "15;1;1,00;2026-03-09"])
    second = status(project_dir)
    assert second["gold.daily_revenue"][1].startswith("incremental: ")
    got = rows(project_dir, TableRef("gold", "daily_revenue"), "ordered_at")
    assert [(str(r["ordered_at"]), r["orders"], str(r["revenue"])) for r in got] == [
        ("2026-01-05", 2, "130.50"), ("2026-01-06", 1, "80.00"), ("2026-02-01", 1, "35.90"),
        ("2026-02-03", 1, "210.00"), ("2026-03-09", 1, "1.00"),
    ]
    history = Warehouse(load_project(project_dir).warehouse_uri).history(
        TableRef("gold", "daily_revenue"), 1
    )
    assert history[0].rows_added == 2  # the two touched days, not the whole table


def test_kind_keys_are_validated_with_file_and_line(project_dir: Path) -> None:
    orders_model(project_dir, "kind: merge\n")
    with pytest.raises(ConfigError) as missing:
        load_graph(load_project(project_dir), cache=False)
    assert "kind `merge` needs `unique_key`" in missing.value.render()
    assert "orders.sql:2" in missing.value.render()
    orders_model(project_dir, "kind: full\nunique_key: order_id\n")
    with pytest.raises(ConfigError) as wrong:
        load_graph(load_project(project_dir), cache=False)
    assert "`unique_key` does not apply to kind `full` (it is a key of merge, score)" in (
        wrong.value.render()
    )
    orders_model(project_dir, "kind: merge\nunique_kee: order_id\n")
    with pytest.raises(ConfigError) as typo:
        load_graph(load_project(project_dir), cache=False)
    assert "did you mean `unique_key`?" in typo.value.render()
    assert "orders.sql:3" in typo.value.render()


def test_a_full_model_downstream_says_it_recomputes_the_whole_table(project_dir: Path) -> None:
    orders_model(project_dir, "kind: merge\nunique_key: order_id\n")
    write(project_dir / "models" / "gold" / "order_count.sql",
          "SELECT count(*) AS orders FROM silver.orders\n")
    status(project_dir)
    add_orders(project_dir, "orders_2.csv", ["14;2;10,00;2026-03-01"])
    second = status(project_dir)
    assert second["silver.orders"][1].startswith("incremental: ")
    assert second["gold.order_count"] == (
        "success", "upstream `silver.orders` runs first; kind `full` recomputes the whole "
        "table (it has no GROUP BY (one row from every input row))")
