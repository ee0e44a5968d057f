"""End-to-end runs of the starter project on DuckDB + Delta."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
from deltalake import DeltaTable

from afluente.config import Project, load_project
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.state import StateStore
from afluente.storage import Warehouse

TABLES = [
    "bronze.customers",
    "bronze.orders",
    "silver.customers",
    "silver.orders",
    "gold.monthly_revenue",
    "gold.revenue_by_state",
]


def versions(project: Project) -> dict[str, int | None]:
    warehouse = Warehouse(project.warehouse_uri)
    return {t: warehouse.version(TableRef.parse(t)) for t in TABLES}


def test_run_builds_every_table_as_delta(project: Project) -> None:
    result = run_project(project)
    assert result.status == "success"
    assert [str(m.ref) for m in result.models] == TABLES
    root = Path(project.warehouse_uri)
    for name in TABLES:
        layer, table = name.split(".")
        assert DeltaTable(str(root / layer / table)).version() == 0
    gold = pl.read_delta(str(root / "gold" / "revenue_by_state")).sort("uf")
    assert gold["uf"].to_list() == ["MG", "RJ", "SP"]
    assert gold["orders"].to_list() == [1, 1, 2]
    assert [Decimal(str(v)) for v in gold["revenue"].to_list()] == [
        Decimal("210.00"), Decimal("80.00"), Decimal("156.40"),
    ]
    customers = DeltaTable(str(root / "silver" / "customers")).to_pyarrow_table()
    assert customers.num_rows == 3  # the exact duplicate row is gone
    assert sorted(customers.column("email").to_pylist())[0] == "ana@example.com"


def test_bronze_rows_carry_ingestion_metadata(project: Project) -> None:
    result = run_project(project)
    bronze = Warehouse(project.warehouse_uri).dataset(TableRef("bronze", "orders")).to_table()
    assert bronze.column_names == [
        "order_id", "customer_id", "amount", "ordered_at",
        "_rescued_data", "_source", "_ingested_at", "_run_id", "_row_hash",
    ]
    assert set(bronze.column("_run_id").to_pylist()) == {result.run_id}
    assert set(bronze.column("_source").to_pylist()) == {"landing/orders.csv"}
    assert bronze.column("amount").to_pylist()[0] == "120,50"  # raw text, typed in silver
    assert len(set(bronze.column("_row_hash").to_pylist())) == 4


def test_second_run_without_new_input_writes_nothing(project: Project) -> None:
    run_project(project)
    before = versions(project)
    again = run_project(project)
    assert again.status == "success"
    assert {m.status for m in again.models} == {"up_to_date"}
    assert versions(project) == before


def test_up_to_date_models_report_their_rows_and_are_recorded_in_one_batch(
    project: Project,
) -> None:
    run_project(project)
    warehouse = Warehouse(project.warehouse_uri)
    stored = {t: warehouse.dataset(TableRef.parse(t)).count_rows() for t in TABLES}
    again = run_project(project)
    # the rows come from the planning's read of each Delta log (file statistics)
    assert {str(m.ref): m.table_rows for m in again.models} == stored
    with StateStore.open(project.state_url) as state:
        recorded = state.get_run(again.run_id).models
    assert sorted(m.model for m in recorded) == sorted(TABLES)
    assert {(m.status, m.started_at, m.duration_s) for m in recorded} == {
        ("up_to_date", None, None)}
    assert all(m.finished_at is not None for m in recorded)


def test_new_source_rebuilds_only_what_depends_on_it(
    project: Project, project_dir: Path
) -> None:
    run_project(project)
    (project_dir / "landing" / "orders_2.csv").write_text(
        "order_id;customer_id;amount;ordered_at\n14;2;10,00;2026-03-01\n"
    )
    result = run_project(project)
    status = {str(m.ref): m.status for m in result.models}
    assert status == {
        "bronze.customers": "up_to_date",
        "bronze.orders": "success",
        "silver.customers": "up_to_date",
        "silver.orders": "success",
        "gold.monthly_revenue": "success",
        "gold.revenue_by_state": "success",
    }
    assert versions(project)["gold.monthly_revenue"] == 1
    monthly = Warehouse(project.warehouse_uri).dataset(TableRef("gold", "monthly_revenue"))
    assert monthly.count_rows() == 3


def test_changed_model_code_rebuilds_it_and_downstream(
    project: Project, project_dir: Path
) -> None:
    run_project(project)
    model = project_dir / "models" / "silver" / "orders.sql"
    model.write_text(model.read_text().replace("FROM bronze.orders", "FROM bronze.orders\n"
                                               "WHERE order_id <> '13'"))
    result = run_project(load_project(project_dir))
    status = {str(m.ref): m.status for m in result.models}
    assert status["silver.orders"] == "success"
    assert status["silver.customers"] == "up_to_date"
    assert status["gold.revenue_by_state"] == "success"
    assert "definition changed" in next(m.reason for m in result.models
                                        if str(m.ref) == "silver.orders")


def test_run_records_state_and_events(project: Project) -> None:
    result = run_project(project, "+gold.revenue_by_state")
    with StateStore.open(project.state_url) as store:
        record = store.get_run(result.run_id[:12])
        events = store.events(result.run_id)
    assert record.status == "success"
    assert record.selector == "+gold.revenue_by_state"
    by_model = {m.model: m for m in record.models}
    assert set(by_model) == set(TABLES) - {"gold.monthly_revenue"}
    assert by_model["silver.orders"].rows_written == 4
    assert by_model["silver.orders"].versions_read == {"bronze.orders": 0}
    assert by_model["silver.orders"].version_written == 0
    types = [e.type for e in events]
    assert types[0] == "run_started" and types[-1] == "run_finished"
    assert types.count("table_committed") == 5


def test_selected_model_with_unbuilt_upstream_fails_with_hint(project: Project) -> None:
    result = run_project(project, "gold.revenue_by_state")
    assert result.status == "failed"
    (failed,) = result.failed
    assert "has not been built yet" in failed.reason
    assert "afluente run --select +silver.orders" in failed.reason or "+silver" in failed.reason
