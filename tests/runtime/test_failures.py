"""A failing model keeps its table at the previous Delta version; downstream is skipped;
independent branches still run; the run is recorded as failed with the error."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from afluente.config import Project, load_project
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.state import StateStore
from afluente.storage import Warehouse

from .conftest import write

ORDERS = TableRef("silver", "orders")


def snapshot(project: Project, ref: TableRef) -> tuple[int | None, pa.Table]:
    warehouse = Warehouse(project.warehouse_uri)
    return warehouse.version(ref), warehouse.dataset(ref).to_table()


def statuses(result: object) -> dict[str, str]:
    return {str(m.ref): m.status for m in result.models}  # type: ignore[attr-defined]


def test_sql_error_keeps_previous_version_and_skips_downstream(
    project: Project, project_dir: Path
) -> None:
    run_project(project)
    version_before, rows_before = snapshot(project, ORDERS)
    write(
        project_dir / "models" / "silver" / "orders.sql",
        "SELECT\n    CAST(order_id AS INTEGER) AS order_id,\n"
        "    CAST(amount AS INTEGER) AS amount\nFROM bronze.orders\n",
    )
    result = run_project(load_project(project_dir), full_refresh=True)

    assert result.status == "failed"
    assert statuses(result) == {
        "bronze.customers": "success",
        "bronze.orders": "success",
        "silver.customers": "success",  # independent branch still runs
        "silver.orders": "failed",
        "gold.monthly_revenue": "skipped",
        "gold.revenue_by_state": "skipped",
    }
    (failed,) = result.failed
    assert "models/silver/orders.sql" in failed.reason
    assert "Could not convert string '120,50' to INT32" in failed.reason
    skipped = [m for m in result.models if m.status == "skipped"]
    assert {m.reason for m in skipped} == {"upstream `silver.orders` failed"}
    version_after, rows_after = snapshot(project, ORDERS)
    assert version_after == version_before
    assert rows_after.equals(rows_before)
    assert Warehouse(project.warehouse_uri).version(TableRef("silver", "customers")) == 1
    with StateStore.open(project.state_url) as store:
        record = store.get_run(result.run_id)
    assert record.status == "failed"
    assert record.error is not None and "silver.orders" in record.error
    assert {m.model: m.status for m in record.models}["gold.monthly_revenue"] == "skipped"


def test_error_half_way_through_the_stream_commits_nothing(
    project: Project, project_dir: Path
) -> None:
    model = project_dir / "models" / "silver" / "numbers.sql"
    write(model, "SELECT range AS n FROM range(10)\n")
    run_project(project, "silver.numbers")
    ref = TableRef("silver", "numbers")
    version_before, rows_before = snapshot(project, ref)
    # the first batches stream into the Delta writer before DuckDB fails
    write(
        model,
        "SELECT CASE WHEN range > 2500000 THEN error('boom at ' || range) ELSE range END AS n\n"
        "FROM range(3000000)\n",
    )
    result = run_project(load_project(project_dir), "silver.numbers")
    (failed,) = result.failed
    assert "boom at 2500001" in failed.reason
    assert "numbers.sql" in failed.reason
    version_after, rows_after = snapshot(project, ref)
    assert version_after == version_before
    assert rows_after.equals(rows_before)


def test_python_model_exception_names_file_and_line(
    project: Project, project_dir: Path
) -> None:
    run_project(project)
    ref = TableRef("gold", "monthly_revenue")
    version_before, rows_before = snapshot(project, ref)
    write(
        project_dir / "models" / "gold" / "monthly_revenue.py",
        "import afluente\n\n\n@afluente.table(inputs=['silver.orders'])\n"
        "def monthly_revenue(orders):\n    total = 0\n    return 1 / total\n",
    )
    result = run_project(load_project(project_dir))
    (failed,) = result.failed
    assert failed.ref == ref
    assert "monthly_revenue.py:7" in failed.reason
    assert "ZeroDivisionError" in failed.reason
    assert snapshot(project, ref)[0] == version_before
    assert snapshot(project, ref)[1].equals(rows_before)
    assert statuses(result)["gold.revenue_by_state"] == "up_to_date"


def test_python_model_returning_the_wrong_type_is_explained(
    project: Project, project_dir: Path
) -> None:
    write(
        project_dir / "models" / "gold" / "monthly_revenue.py",
        "import afluente\n\n\n@afluente.table(inputs=['silver.orders'])\n"
        "def monthly_revenue(orders):\n    return {'a': 1}\n",
    )
    result = run_project(load_project(project_dir))
    (failed,) = result.failed
    assert "returned dict" in failed.reason
    assert "DuckDB relation" in failed.reason


def test_unreadable_source_file_is_quarantined_and_bronze_keeps_its_rows(
    project: Project, project_dir: Path
) -> None:
    run_project(project)
    ref = TableRef("bronze", "orders")
    version_before, rows_before = snapshot(project, ref)
    (project_dir / "landing" / "orders_bad.csv").write_bytes(
        b"order_id;customer_\xff\xfeid;amount;ordered_at\n15;1;3;2026-01-01\n"
    )
    result = run_project(load_project(project_dir))
    assert result.status == "success"
    version, rows = snapshot(project, ref)
    assert version == (version_before or 0) + 1
    before = rows_before.to_pylist()
    after = rows.to_pylist()
    assert all(row in after for row in before)  # nothing committed is lost
    (quarantined,) = [r for r in after if r["_source"] == "landing/orders_bad.csv"]
    assert quarantined["order_id"] is None
    assert "cannot read the first line: it is not valid utf-8" in quarantined["_rescued_data"]


def test_missing_sources_fail_that_branch_only(project: Project, project_dir: Path) -> None:
    for file in (project_dir / "landing").glob("orders*.csv"):
        file.unlink()
    result = run_project(load_project(project_dir))
    assert result.status == "failed"
    (failed,) = result.failed
    assert failed.ref == TableRef("bronze", "orders")
    assert "source `orders`: no file matches `landing/orders*.csv`" in failed.reason
    assert "afluente.yml:11" in failed.reason
    assert statuses(result)["silver.customers"] == "success"
    assert statuses(result)["silver.orders"] == "skipped"
