"""Data environments end to end on the starter project: change a silver model, plan, run
in dev, diff, promote, roll back; prod's tables untouched until the promote, nothing
rebuilt by it; bad input refused before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli_inprocess import run_afluente

from afluente.config import Project, load_project
from afluente.errors import DataEnvironmentError, StaleEnvironmentError
from afluente.governance.audit import read_entries
from afluente.model import TableRef
from afluente.runtime import plan_project, run_project
from afluente.runtime.env_diff import diff_table
from afluente.runtime.env_promote import clean_expired, drop, promote, rollback
from afluente.runtime.environments import env_store, plan_environment, run_environment
from afluente.state import StateStore
from afluente.storage import Warehouse

CUSTOMERS = TableRef("silver", "customers")
ORDERS = TableRef("silver", "orders")
REVENUE = TableRef("gold", "revenue_by_state")


def versions(project: Project, environment: str = "prod") -> dict[str, int | None]:
    warehouse = Warehouse(project.warehouse_uri, environment=environment)
    found = {}
    for ref in (CUSTOMERS, ORDERS, REVENUE):
        last = warehouse.last_commit(ref)
        found[str(ref)] = None if last is None else last.version
    return found


def commits(warehouse: Warehouse, ref: TableRef) -> int:
    return len(list((warehouse.local_dir(ref) / "_delta_log").glob("*.json")))


@pytest.fixture
def built(project_dir: Path) -> Project:
    project = load_project(project_dir)
    assert run_project(project).status == "success"
    model = project_dir / "models/silver/customers.sql"
    model.write_text(model.read_text().replace(
        "upper(uf) AS uf", "upper(uf) AS uf,\n    length(trim(name)) AS name_length"))
    return load_project(project_dir)


def test_change_goes_from_dev_to_prod_and_back(built: Project) -> None:
    prod_before = versions(built)
    planned = plan_environment(built, "dev", expires_after="7d")
    change = {c.table: c for c in planned.changes}
    assert change["silver.customers"].category == "breaking"  # SELECT DISTINCT
    assert change["silver.customers"].columns.added == ("name_length",)
    assert planned.rebuilt == {"gold.revenue_by_state": "silver.customers"}
    assert planned.record.own == ["gold.revenue_by_state", "silver.customers"]
    assert planned.record.base_tables["silver.orders"]["version"] == prod_before["silver.orders"]

    built_dev = run_environment(built, "dev")
    assert built_dev.status == "success"
    assert versions(built) == prod_before  # prod untouched by the dev build
    with StateStore.open(built.state_url) as state:
        assert state.get_run(built_dev.run_id).args["trigger"] == {"environment": "dev"}
    dev = Warehouse(built.warehouse_uri, environment="dev")
    assert dev.uri(ORDERS) == Warehouse(built.warehouse_uri, environment="prod").uri(ORDERS)
    assert "_environments/dev/" in dev.uri(CUSTOMERS)
    assert "name_length" in dev.schema(CUSTOMERS).names
    with pytest.raises(DataEnvironmentError, match="read-only"):
        dev.check_writable_here(ORDERS)

    with pytest.raises(DataEnvironmentError, match="its plan reads it from the base"):
        diff_table(built, ORDERS, "dev")
    found = diff_table(built, CUSTOMERS, "dev")
    assert (found.rows_base, found.rows_env) == (3, 3)
    assert found.added_columns == {"name_length": "int64"}
    assert found.removed_columns == {} and found.key is None

    dev_commits = {ref: commits(dev, ref) for ref in (CUSTOMERS, REVENUE)}
    done = promote(built, "dev", "prod")
    assert done.tables == {"gold.revenue_by_state": 0, "silver.customers": 0}
    prod = Warehouse(built.warehouse_uri)
    assert "name_length" in prod.schema(CUSTOMERS).names  # prod reads follow the pointer
    assert {ref: commits(dev, ref) for ref in dev_commits} == dev_commits  # nothing rebuilt
    assert plan_project(built).plan.to_run == ()  # and prod's next run rebuilds nothing
    assert env_store(built).load("dev").state == "promoted"

    rollback(built, "prod")
    prod = Warehouse(built.warehouse_uri)
    assert "name_length" not in prod.schema(CUSTOMERS).names
    assert versions(built) == prod_before

    with StateStore.open(built.state_url) as state:
        events = [e for e in state.events() if e.type.startswith("environment_")]
    assert [e.type for e in events] == ["environment_promoted", "environment_rolled_back"]
    assert events[0].payload["tables"] == {"gold.revenue_by_state": 0, "silver.customers": 0}
    audited = [(e.action, e.object) for e in read_entries(built)]
    assert audited[-2:] == [("environment_promoted", "dev"),
                            ("environment_rolled_back", "prod")]

    # a pointer set of prod still names dev's tables (the promote, for the record): kept
    assert sorted(drop(built, "dev")) == ["gold.revenue_by_state", "silver.customers"]
    assert not env_store(built).exists("dev")
    assert (env_store(built).folder("dev") / "tables/silver/customers/_delta_log").is_dir()


def test_the_commands(built: Project, project_dir: Path) -> None:
    cli = ["-p", str(project_dir)]
    planned = run_afluente([*cli, "--json", "plan", "--env", "dev"])
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["builds"] == ["gold.revenue_by_state", "silver.customers"]
    assert run_afluente([*cli, "run", "--env", "dev"]).returncode == 0
    shown = run_afluente([*cli, "diff", "silver.customers", "--env", "dev"])
    assert "columns added: name_length" in shown.stdout, shown.stderr
    listed = run_afluente([*cli, "--json", "env", "list"])
    assert [(e["name"], e["state"]) for e in json.loads(listed.stdout)] == [("dev", "open")]
    assert run_afluente([*cli, "promote", "dev", "--to", "prod"]).returncode == 0
    read = run_afluente([*cli, "--json", "query", "select sum(name_length) AS n "
                         "from silver.customers"])  # the query service follows the pointer
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout) == [{"n": 29}]
    again = run_afluente([*cli, "run", "--env", "dev"])
    assert again.returncode == 1 and "was promoted: it is read-only" in again.stderr
    assert run_afluente([*cli, "rollback", "prod"]).returncode == 0
    bad = run_afluente([*cli, "plan", "--env", "Dev!"])
    assert bad.returncode == 1 and "invalid environment name `Dev!`" in bad.stderr


def test_promote_refuses_when_the_base_moved(built: Project, project_dir: Path) -> None:
    plan_environment(built, "dev")
    assert run_environment(built, "dev").status == "success"
    (project_dir / "landing/orders_2.csv").write_text(
        "order_id;customer_id;amount;ordered_at\n99;1;5,00;2024-03-01\n")
    assert run_project(load_project(project_dir), "bronze.orders+").status == "success"
    before = versions(built)
    with pytest.raises(StaleEnvironmentError, match="re-plan: `afluente plan --env dev`"):
        promote(built, "dev")
    assert env_store(built).current("prod") is None  # no pointer set written
    assert versions(built) == before
    plan_environment(built, "dev")  # re-plan, rebuild, then it promotes
    assert run_environment(built, "dev").status == "success"
    assert promote(built, "dev").pointers.number == 1


@pytest.mark.parametrize("name", ["Dev", "prod", "a.b", "x" * 41, ""])
def test_invalid_environment_name_writes_nothing(built: Project, name: str) -> None:
    with pytest.raises(DataEnvironmentError, match="invalid environment name"):
        plan_environment(built, name)
    # only prod's recorded definitions (written by the prod run) are there
    assert [p.name for p in env_store(built).root.iterdir()] == ["prod"]


def test_promoted_environment_is_not_planned_again(built: Project) -> None:
    plan_environment(built, "dev")
    run_environment(built, "dev")
    promote(built, "dev")
    record = (env_store(built).folder("dev") / "env.json").read_text()
    with pytest.raises(DataEnvironmentError, match="was promoted"):
        plan_environment(built, "dev")
    assert (env_store(built).folder("dev") / "env.json").read_text() == record


def test_expired_environments_are_cleaned(built: Project) -> None:
    from datetime import UTC, datetime, timedelta

    plan_environment(built, "short", expires_after="1h")
    run_environment(built, "short")
    folder = env_store(built).folder("short")
    assert folder.is_dir()
    assert clean_expired(built) == []
    assert clean_expired(built, datetime.now(UTC) + timedelta(hours=2)) == ["short"]
    assert not folder.exists()


def test_tables_beside_a_changed_one_are_written_in_the_environment(
        built: Project, project_dir: Path) -> None:
    """A changed model's quarantine is the environment's too, never prod's."""
    model = project_dir / "models/silver/customers.sql"
    model.write_text(model.read_text().replace(
        "tags: [pii]\n", "tags: [pii]\nexpectations:\n  - {name: only_sp, accepted_values: "
        "{column: uf, values: [SP]}, action: quarantine}\n"))
    project = load_project(project_dir)
    plan_environment(project, "dev")
    assert run_environment(project, "dev").status == "success"
    quarantine = TableRef("silver", "customers__quarantine")
    dev = Warehouse(project.warehouse_uri, environment="dev")
    assert "_environments/dev/" in dev.uri(quarantine)
    assert dev.open(quarantine).to_pyarrow_table().num_rows == 2
    assert not Warehouse(project.warehouse_uri, environment="prod").exists(quarantine)


def test_an_existing_name_is_refused_by_create(built: Project) -> None:
    plan_environment(built, "dev")
    record = (env_store(built).folder("dev") / "env.json").read_text()
    with pytest.raises(DataEnvironmentError, match="environment `dev` exists"):
        plan_environment(built, "dev", new=True)
    plan_environment(built, "dev2")
    with pytest.raises(DataEnvironmentError, match="based on `prod`, not `dev2`"):
        plan_environment(built, "dev", base="dev2")
    assert (env_store(built).folder("dev") / "env.json").read_text() == record


def test_diff_matches_rows_by_the_unique_key(built: Project, project_dir: Path) -> None:
    model = project_dir / "models/silver/orders.sql"
    model.write_text(model.read_text()
                     .replace("*/", "kind: merge\nunique_key: order_id\n*/", 1)
                     .replace("AS DECIMAL(18, 2)) AS amount",
                              "AS DECIMAL(18, 2)) * 2 AS amount")
                     .replace("FROM bronze.orders", "FROM bronze.orders WHERE order_id <> '10'"))
    project = load_project(project_dir)
    planned = plan_environment(project, "dev")
    assert {c.table: c.category for c in planned.changes}["silver.orders"] == "breaking"
    assert run_environment(project, "dev").status == "success"
    found = diff_table(project, ORDERS, "dev")
    assert found.key == ("order_id",)
    assert (found.rows_base, found.rows_env) == (4, 3)
    assert (found.matched, found.only_base, found.only_env) == (3, 1, 0)
    assert found.changed == {"amount": 3}
