"""Contracts: declared output types are checked before the write; schema-change policies."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from afluente.config import load_project
from afluente.engines import DuckDBSettings, create_engine
from afluente.errors import Location, ModelError
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.runtime.contracts import ContractError, check_contract, contract_diff
from afluente.storage import Warehouse

from .conftest import write

ORDERS = TableRef("silver", "orders")
BODY = """
SELECT
    CAST(order_id AS INTEGER) AS order_id,
    CAST(replace(amount, ',', '.') AS {amount}) AS amount{extra}
FROM bronze.orders
"""


def model(project_dir: Path, header: str, amount: str = "DECIMAL(18, 2)", extra: str = "") -> None:
    write(project_dir / "models" / "silver" / "orders.sql",
          f"/* @config\n{header}*/" + BODY.format(amount=amount, extra=extra))


def outcome(project_dir: Path) -> tuple[str, str]:
    result = run_project(load_project(project_dir), "+silver.orders")
    found = {str(m.ref): (m.status, m.reason) for m in result.models}
    return found["silver.orders"]


def version(project_dir: Path) -> int | None:
    return Warehouse(load_project(project_dir).warehouse_uri).version(ORDERS)


CONTRACT = (
    "contract: enforced\ncolumns:\n  order_id: {type: int}\n"
    "  amount: {type: \"DECIMAL(18,2)\", description: BRL}\n"
)


def test_matching_output_passes_with_type_aliases(project_dir: Path) -> None:
    model(project_dir, CONTRACT)
    assert outcome(project_dir)[0] == "success"


def test_mismatch_fails_with_a_diff_and_keeps_the_previous_version(project_dir: Path) -> None:
    model(project_dir, CONTRACT)
    outcome(project_dir)
    before = version(project_dir)
    model(project_dir, CONTRACT, amount="DOUBLE", extra=", 'x' AS note")
    state, reason = outcome(project_dir)
    assert state == "failed"
    assert "output does not match the contract:" in reason
    assert "column amount: expected DECIMAL(18,2), got DOUBLE" in reason
    assert "extra column note (VARCHAR)" in reason
    assert "orders.sql:1" in reason
    assert version(project_dir) == before


def test_contract_on_an_incremental_model_keeps_the_table(project_dir: Path) -> None:
    model(project_dir, "kind: merge\nunique_key: order_id\n" + CONTRACT)
    outcome(project_dir)
    before = version(project_dir)
    model(project_dir, "kind: merge\nunique_key: order_id\n" + CONTRACT, amount="VARCHAR")
    state, reason = outcome(project_dir)
    assert state == "failed" and "column amount: expected DECIMAL(18,2), got VARCHAR" in reason
    assert version(project_dir) == before


def test_diff_lists_missing_columns() -> None:
    assert contract_diff({"a": "INTEGER", "b": "DATE"}, {"a": "BIGINT"}) == [
        "column a: expected INTEGER, got BIGINT",
        "missing column b (DATE)",
    ]


def test_a_contract_type_that_is_not_sql_names_the_model() -> None:
    schema = pa.schema({"order_id": pa.int32()})
    with pytest.raises(ModelError) as caught:
        check_contract({"order_id": "NUMBERISH"}, schema, Location("orders.sql", 3),
                       "silver.orders")
    assert caught.value.message == "contract type 'NUMBERISH' is not a SQL type"
    assert caught.value.location == Location("orders.sql", 3)
    assert caught.value.table == "silver.orders"
    assert "DECIMAL(18,2)" in (caught.value.hint or "")


def test_contract_types_come_from_the_run_engine_when_given() -> None:
    schema = pa.schema({"order_id": pa.int32(), "amount": pa.float64()})
    engine = create_engine(DuckDBSettings(threads=1))
    try:
        check_contract({"order_id": "int4", "amount": "double"}, schema,
                       Location("orders.sql", 1), "silver.orders", engine)
        with pytest.raises(ContractError) as caught:
            check_contract({"order_id": "BIGINT", "amount": "DOUBLE"}, schema,
                           Location("orders.sql", 1), "silver.orders", engine)
        assert "column order_id: expected BIGINT, got INTEGER" in caught.value.message
        engine.query("SELECT 1")  # the engine stays usable: the caller owns and closes it
    finally:
        engine.close()


def test_on_schema_change_fail_then_append_new_columns(project_dir: Path) -> None:
    def log_model(policy: str) -> None:
        write(project_dir / "models" / "silver" / "order_log.sql",
              f"/* @config\nkind: append\non_schema_change: {policy}\n*/\n"
              "SELECT * EXCLUDE (_ingested_at, _run_id, _row_hash, _rescued_data, _source) "
              "FROM bronze.orders\n")

    log_model("fail")
    run_project(load_project(project_dir))
    log = TableRef("silver", "order_log")
    warehouse = Warehouse(load_project(project_dir).warehouse_uri)
    before = warehouse.version(log)
    write(project_dir / "landing" / "orders_2.csv",
          "order_id;customer_id;amount;ordered_at;channel\n14;1;5,00;2026-03-01;app\n")
    result = run_project(load_project(project_dir))
    failed = {str(m.ref): m for m in result.models}["silver.order_log"]
    assert failed.status == "failed"
    assert "the output's columns differ from the table's: new column(s) channel" in failed.reason
    assert "on_schema_change: append_new_columns" in failed.reason
    assert warehouse.version(log) == before
    log_model("append_new_columns")  # a changed definition rebuilds: all rows, new column
    assert run_project(load_project(project_dir)).status == "success"
    got = sorted(warehouse.dataset(log).to_table().to_pylist(), key=lambda r: r["order_id"])
    assert [(r["order_id"], r["channel"]) for r in got][-2:] == [("13", None), ("14", "app")]
