"""View models and the frames Python models may return."""

from __future__ import annotations

from pathlib import Path

from afluente.config import load_project
from afluente.model import TableRef
from afluente.runtime import query_project, run_project
from afluente.storage import Warehouse

from .conftest import write


def test_view_is_not_stored_but_feeds_downstream_and_query(project_dir: Path) -> None:
    write(
        project_dir / "models" / "silver" / "big_orders.sql",
        "/* @config\nkind: view\n*/\nSELECT * FROM silver.orders WHERE amount > 100\n",
    )
    write(
        project_dir / "models" / "gold" / "big_order_count.sql",
        "SELECT count(*) AS n, sum(amount) AS total FROM silver.big_orders\n",
    )
    project = load_project(project_dir)
    result = run_project(project)
    assert result.status == "success"
    warehouse = Warehouse(project.warehouse_uri)
    assert not warehouse.exists(TableRef("silver", "big_orders"))
    gold = warehouse.dataset(TableRef("gold", "big_order_count")).to_table().to_pylist()
    assert [(row["n"], str(row["total"])) for row in gold] == [(2, "330.50")]
    commit = warehouse.last_commit(TableRef("gold", "big_order_count"))
    assert commit is not None and commit.inputs == {"silver.orders": 0}
    viewed = query_project(project, "select order_id from silver.big_orders order by 1")
    assert viewed.column("order_id").to_pylist() == [10, 13]
    again = run_project(project, "gold.big_order_count")
    assert [m.status for m in again.models] == ["up_to_date"]


def test_python_models_take_keyword_inputs_and_return_polars_or_arrow(
    project_dir: Path,
) -> None:
    write(
        project_dir / "models" / "gold" / "customer_orders.py",
        "import afluente\nimport polars as pl\nimport pyarrow as pa\n\n\n"
        "@afluente.table(inputs={'o': 'silver.orders', 'c': 'silver.customers'})\n"
        "def customer_orders(c, o):\n"
        "    joined = o.join(c, 'customer_id').aggregate('name, count(*) AS n', 'name')\n"
        "    return pl.from_arrow(joined.to_arrow_table()).sort('name')\n\n\n"
        "@afluente.table(name='gold.constant')\n"
        "def anything():\n"
        "    return pa.table({'x': [1, 2, 3]})\n",
    )
    project = load_project(project_dir)
    result = run_project(project)
    assert result.status == "success", [m.reason for m in result.failed]
    warehouse = Warehouse(project.warehouse_uri)
    rows = warehouse.dataset(TableRef("gold", "customer_orders")).to_table().to_pylist()
    assert rows == [
        {"name": "Bruno Lima", "n": 1},
        {"name": "ana souza", "n": 2},
        {"name": "carla dias", "n": 1},
    ]
    constant = warehouse.dataset(TableRef("gold", "constant")).to_table()
    assert constant.column("x").to_pylist() == [1, 2, 3]


def test_project_vars_reach_sql_and_rebuild_when_changed(project_dir: Path) -> None:
    project_file = project_dir / "afluente.yml"
    project_file.write_text(project_file.read_text() + "vars:\n  min_amount: 100\n")
    write(
        project_dir / "models" / "gold" / "large.sql",
        "SELECT order_id FROM silver.orders WHERE amount > getvariable('min_amount')\n",
    )
    first = run_project(load_project(project_dir))
    warehouse = Warehouse(load_project(project_dir).warehouse_uri)
    rows = warehouse.dataset(TableRef("gold", "large")).to_table()
    assert sorted(rows.column("order_id").to_pylist()) == [10, 13]
    assert first.status == "success"
    project_file.write_text(project_file.read_text().replace("min_amount: 100", "min_amount: 200"))
    second = run_project(load_project(project_dir))
    status = {str(m.ref): m.status for m in second.models}
    assert status["gold.large"] == "success"
    assert status["gold.revenue_by_state"] == "up_to_date"  # does not read the variable
    rows = warehouse.dataset(TableRef("gold", "large")).to_table()
    assert rows.column("order_id").to_pylist() == [13]
