"""Every kind, every expectation action, contracts, schema evolution and bad input, through
the runtime, with the same expected values on every engine.

The project (`project.py`) is built twice per engine, once per module: run 1 from the first
orders file, run 2 after a second file lands (with a new column) and a few models are
broken. Each test asserts values of the tables both runs left, read back by delta-rs at the
versions the runs committed."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from afluente.config import load_project
from afluente.runtime.quality_step import QualityTally
from afluente.runtime.runner import run_project
from afluente.state import StateStore

from .project import Built, build_twice, make_project

BROKEN = {"gold.bad_delete", "gold.contracted", "gold.guarded", "gold.orders_by_customer",
          "gold.refused", "gold.unknown_column"}


@pytest.fixture(scope="module")
def built(engine_config: str, tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_twice(make_project(tmp_path_factory.mktemp("contract") / "shop",
                                    engine_config))


def table(built: Built, name: str, version: int | None = None) -> pa.Table:
    layer, table_name = name.split(".")
    return DeltaTable(str(built.root / "warehouse" / layer / table_name),
                      version=version).to_pyarrow_table()


def version(built: Built, name: str) -> int:
    layer, table_name = name.split(".")
    return DeltaTable(str(built.root / "warehouse" / layer / table_name)).version()


def rows(built: Built, name: str, columns: list[str], version: int | None = None,
         where: str | None = None) -> list[tuple[Any, ...]]:
    """The values of `columns`, sorted (NULLs first); `where`: a boolean column to keep."""
    data = table(built, name, version).to_pylist()
    picked = [tuple(r[c] for c in columns) for r in data if where is None or r[where]]
    return sorted(picked, key=lambda row: tuple((v is not None, v) for v in row))


def error(built: Built, name: str) -> str:
    result = next(m for m in built.runs[1].models if str(m.ref) == name)
    assert result.status == "failed" and result.error is not None
    return str(result.error)


def d(text: str) -> Decimal:
    return Decimal(text)


# -- the runs ---------------------------------------------------------------------------------


def test_run_one_builds_every_model_and_run_two_fails_only_the_broken_ones(
    built: Built
) -> None:
    first, second = built.runs

    assert first.status == "success", first.error
    assert {str(m.ref) for m in second.models if m.status == "failed"} == BROKEN
    assert {m.status for m in second.models if str(m.ref) not in BROKEN} <= {
        "success", "up_to_date"}


def test_each_model_reports_how_it_read_in_run_two(built: Built) -> None:
    reasons = {str(m.ref): m.reason for m in built.runs[1].models}
    for name in ("gold.order_log", "gold.orders_by_id", "gold.customer_history",
                 "gold.customer_latest", "gold.orders_per_day", "gold.evolving"):
        assert reasons[name] == "incremental: 1 new file(s) of `bronze.orders` (v0 → v2)", name
    assert reasons["gold.customer_snapshot"].startswith("full: a snapshot compares")


# -- kinds ------------------------------------------------------------------------------------


def test_full_models_read_a_view_that_is_no_table(built: Built) -> None:
    assert rows(built, "gold.paid_total", ["orders", "total"], version=0) == [(3, d("410.50"))]
    assert rows(built, "gold.paid_total", ["orders", "total"]) == [(4, d("509.50"))]
    assert not (built.root / "warehouse" / "silver" / "paid_orders").exists()


def test_result_columns_have_duckdb_types_on_every_engine(built: Built) -> None:
    # the project's dialect, DuckDB's, decides: Spark's own types are DECIMAL(28,2),
    # DECIMAL(22,6) and INT
    stored = table(built, "gold.paid_total")
    assert {name: stored.schema.field(name).type for name in ("total", "mean", "n")} == {
        "total": pa.decimal128(38, 2), "mean": pa.float64(), "n": pa.int64()}
    assert stored.column("mean").to_pylist() == [pytest.approx(509.50 / 4)]
    assert stored.column("n").to_pylist() == [1]


def test_append_adds_only_the_new_rows(built: Built) -> None:
    columns = ["order_id", "amount"]
    assert rows(built, "gold.order_log", columns, version=0) == [
        (10, d("120.50")), (11, d("80.00")), (12, d("35.90")), (13, d("210.00"))]
    assert rows(built, "gold.order_log", columns) == [
        (10, d("99.00")), (10, d("120.50")), (11, d("80.00")), (12, d("-1.00")),
        (12, d("35.90")), (13, d("210.00")), (14, d("10.00"))]
    assert version(built, "gold.order_log") == 1


def test_merge_upserts_and_deletes_by_key(built: Built) -> None:
    assert rows(built, "gold.orders_by_id", ["order_id", "customer_id", "amount"]) == [
        (10, 1, d("99.00")), (11, 2, d("80.00")), (13, 3, d("210.00")), (14, 2, d("10.00"))]
    assert version(built, "gold.orders_by_id") == 1


def test_apply_changes_scd2_keeps_history_and_closes_deleted_keys(built: Built) -> None:
    columns = ["customer_id", "seq", "amount", "valid_from", "valid_to", "is_current"]
    assert rows(built, "gold.customer_history", columns, version=0, where="__cdc_visible") == [
        (1, 10, d("120.50"), 10, 12, False), (1, 12, d("35.90"), 12, None, True),
        (2, 11, d("80.00"), 11, None, True), (3, 13, d("210.00"), 13, None, True)]
    # order 12 turned into a delete of customer 1: its version from 12 is gone and the
    # version from 10 (re-sent with 99.00, the same event sequence) closes at 12
    assert rows(built, "gold.customer_history", columns, where="__cdc_visible") == [
        (1, 10, d("99.00"), 10, 12, False), (2, 11, d("80.00"), 11, 14, False),
        (2, 14, d("10.00"), 14, None, True), (3, 13, d("210.00"), 13, None, True)]
    stored = table(built, "gold.customer_history")
    assert {"__cdc_sequence", "__cdc_deleted", "__cdc_visible"} <= set(stored.column_names)
    assert stored.num_rows == 9  # four versions, five events kept invisibly


def test_apply_changes_scd1_keeps_the_latest_event_per_key(built: Built) -> None:
    stored = table(built, "gold.customer_latest")
    assert "ordered_at" not in stored.column_names  # except_columns
    assert rows(built, "gold.customer_latest", ["customer_id", "seq", "amount"],
                where="__cdc_visible") == [(2, 14, d("10.00")), (3, 13, d("210.00"))]
    # customer 1's delete is kept as a tombstone, so an older event cannot bring it back
    assert rows(built, "gold.customer_latest", ["customer_id", "__cdc_deleted"]) == [
        (1, True), (2, False), (3, False)]


def test_snapshot_updates_untracked_columns_in_place(built: Built) -> None:
    columns = ["customer_id", "orders", "top_amount", "valid_to", "is_current"]
    assert rows(built, "gold.customer_snapshot", columns, version=0) == [
        (1, 2, d("120.50"), None, True), (2, 1, d("80.00"), None, True),
        (3, 1, d("210.00"), None, True)]
    assert rows(built, "gold.customer_snapshot", columns) == [
        (1, 3, d("120.50"), None, True), (2, 2, d("80.00"), None, True),
        (3, 1, d("210.00"), None, True)]
    starts = set(table(built, "gold.customer_snapshot").column("valid_from").to_pylist())
    assert starts == set(table(built, "gold.customer_snapshot", 0).column("valid_from")
                         .to_pylist()) and len(starts) == 1  # run 1's start time


def test_time_range_rebuilds_the_touched_days(built: Built) -> None:
    columns = ["_partition_day", "order_id", "amount"]
    assert len(rows(built, "gold.orders_per_day", columns, version=0)) == 4
    assert [(str(day), order, amount) for day, order, amount
            in rows(built, "gold.orders_per_day", columns)] == [
        ("2026-01-05", 10, d("99.00")), ("2026-01-05", 10, d("120.50")),
        ("2026-01-06", 11, d("80.00")), ("2026-02-01", 12, d("-1.00")),
        ("2026-02-01", 12, d("35.90")), ("2026-02-03", 13, d("210.00")),
        ("2026-02-04", 14, d("10.00"))]
    assert DeltaTable(str(built.root / "warehouse" / "gold" / "orders_per_day")) \
        .metadata().partition_columns == ["_partition_day"]


def test_null_keys_are_quarantined(built: Built) -> None:
    assert rows(built, "gold.keyed", ["k", "amount"]) == [(13, d("210.00"))]
    assert rows(built, "gold.keyed__quarantine", ["_rules", "_reason", "_row", "_key"]) == [
        (["null_key"], "null_key: NULL in key column(s) k", '{"k":null,"amount":80.00}',
         None)]


def test_a_full_refresh_rebuilds_the_same_change_history(built: Built, tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(built.root, root)
    copy = Built(root, built.runs)
    before = table(copy, "gold.customer_history")

    result = run_project(load_project(root), "gold.customer_history", full_refresh=True)

    assert result.status == "success", result.error
    assert version(copy, "gold.customer_history") == 2
    # apply_changes is order- and batch-independent: all events at once, the same table
    after = table(copy, "gold.customer_history")
    assert sorted(map(repr, after.to_pylist())) == sorted(map(repr, before.to_pylist()))


# -- expectations -----------------------------------------------------------------------------


def test_warn_drop_and_quarantine_in_one_pass(built: Built) -> None:
    first, second = (next(m for m in run.models if str(m.ref) == "gold.checked")
                     for run in built.runs)
    assert first.quality == QualityTally(rows=4, quarantined=1, dropped=1, duplicates=0,
                                         warnings=1)
    assert second.quality == QualityTally(rows=7, quarantined=1, dropped=2, duplicates=0,
                                          warnings=1)
    columns = ["order_id", "amount"]
    assert rows(built, "gold.checked", columns, version=0) == [
        (10, d("120.50")), (12, d("35.90"))]  # 11 dropped (customer 2), 13 quarantined
    assert rows(built, "gold.checked", columns) == [
        (10, d("99.00")), (10, d("120.50")), (12, d("-1.00")), (12, d("35.90"))]


def test_quarantined_rows_name_their_rule_and_version(built: Built) -> None:
    reason = "amount_in_range: between (column=amount, max=200.0)"
    row = '{"order_id":13,"customer_id":3,"amount":210.00}'
    columns = ["_rules", "_reason", "_row", "_version"]
    assert rows(built, "gold.checked__quarantine", columns, version=0) == [
        (["amount_in_range"], reason, row, 0)]
    assert rows(built, "gold.checked__quarantine", columns) == [
        (["amount_in_range"], reason, row, 1)]


def test_rule_results_are_recorded_per_run(built: Built) -> None:
    with StateStore.open(load_project(built.root).state_url) as store:
        results = [(r["rule"], r["rows_evaluated"], r["rows_failed"])
                   for r in store.quality_history() if r["model"] == "gold.checked"]
    assert sorted(results) == sorted([
        ("not_tiny", 4, 1), ("not_customer_2", 4, 1), ("amount_in_range", 4, 1),
        ("not_tiny", 7, 3), ("not_customer_2", 7, 2), ("amount_in_range", 7, 1)])


def test_a_failing_expectation_commits_nothing(built: Built) -> None:
    assert error(built, "gold.guarded").endswith(
        "guarded.sql:1: [gold.guarded] expectation failed, nothing committed: `no_refunds` "
        'failed: 1 of 7 rows (14.2857%); sample: [{"order_id": 12, "amount": "-1.00"}]\n'
        "  hint: fix the data or the model, or relax the rule (action: warn, mostly: 0.99)")
    assert version(built, "gold.guarded") == 0


# -- contracts and schema evolution -----------------------------------------------------------


def test_an_enforced_contract_passes_then_fails_with_every_problem(built: Built) -> None:
    assert table(built, "gold.contracted", 0).schema.field("order_id").type == pa.int32()
    assert ("contracted.sql:1: [gold.contracted] output does not match the contract:\n"
            "  column amount: expected DECIMAL(18,2), got DOUBLE\n"
            "  extra column note (INTEGER)\n") in error(built, "gold.contracted")
    assert version(built, "gold.contracted") == 0


def test_append_new_columns_adds_the_column_and_keeps_old_rows_null(built: Built) -> None:
    assert "channel" not in table(built, "gold.evolving", 0).column_names
    assert rows(built, "gold.evolving", ["order_id", "amount", "channel"]) == [
        ("10", "120,50", None), ("10", "99,00", "web"), ("11", "80,00", None),
        ("12", "-1,00", "web"), ("12", "35,90", None), ("13", "210,00", None),
        ("14", "10,00", "shop")]


def test_sync_rebuilds_from_all_upstream_rows(built: Built) -> None:
    assert rows(built, "gold.synced", ["order_id", "amount", "channel"]) == [
        ("10", "120,50", None), ("10", "99,00", "web"), ("11", "80,00", None),
        ("12", "-1,00", "web"), ("12", "35,90", None), ("13", "210,00", None),
        ("14", "10,00", "shop")]
    assert version(built, "gold.synced") == 1


def test_a_new_column_is_refused_by_default(built: Built) -> None:
    assert error(built, "gold.refused").endswith(
        "refused.sql:1: [gold.refused] the output's columns differ from the table's: new "
        "column(s) channel\n  hint: set on_schema_change: append_new_columns or sync, or run "
        "with --full-refresh")
    assert version(built, "gold.refused") == 0


# -- bad input --------------------------------------------------------------------------------


def test_an_unknown_column_names_the_file_line_and_column(built: Built) -> None:
    message = error(built, "gold.unknown_column")
    assert "unknown_column.sql:5:8: [gold.unknown_column] " in message
    assert "no_such_column" in message
    assert message.endswith("fix the model's SQL; the table keeps its previous version")
    assert version(built, "gold.unknown_column") == 0
    assert table(built, "gold.unknown_column").num_rows == 4


def test_a_duplicated_key_fails_the_merge_and_names_an_example(built: Built) -> None:
    assert ("orders_by_customer.sql:1: [gold.orders_by_customer] the source has 1 duplicated "
            "value(s) of unique key (customer_id), e.g. customer_id=1 (2 rows)") in error(
        built, "gold.orders_by_customer")
    assert version(built, "gold.orders_by_customer") == 0


def test_a_kind_setting_naming_no_column_names_the_model(built: Built) -> None:
    message = error(built, "gold.bad_delete")
    assert "bad_delete.sql:1: [gold.bad_delete] an incremental step failed on " in message
    assert "no_such_column" in message
    assert "hint: fix the model's kind settings (delete_when" in message
    assert version(built, "gold.bad_delete") == 0
