"""One damaged table (unreadable Delta log, missing checkpoint, deleted data file) fails
alone: every other table still builds, the damaged one and its downstream fail with a
message naming the table and the file, and `afluente repair` (or `run --full-refresh`)
gets it back, saying what was lost."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable
from tests.cli_inprocess import run_afluente
from tests.conftest import require_component

from afluente.config import Project, load_project
from afluente.errors import DamagedTableError
from afluente.model import TableRef
from afluente.runtime import plan_project, run_project
from afluente.runtime.repair import repair
from afluente.storage import Warehouse

ORDERS = TableRef("silver", "orders")
DOWNSTREAM = {"gold.monthly_revenue", "gold.revenue_by_state"}
INDEPENDENT = {"bronze.customers", "bronze.orders", "silver.customers"}


def table_dir(project: Project) -> Path:
    return Path(Warehouse(project.warehouse_uri).uri(ORDERS))


def commit_file(project: Project, version: int) -> Path:
    return table_dir(project) / "_delta_log" / f"{version:020d}.json"


def rows(project: Project, version: int | None = None) -> pa.Table:
    return Warehouse(project.warehouse_uri).dataset(ORDERS, version).to_table().sort_by(
        "order_id"
    )


def built_twice(project: Project) -> pa.Table:
    """silver.orders at v0 and v1 (same rows); its rows."""
    run_project(project)
    run_project(project, "silver.orders", full_refresh=True)
    return rows(project)


def truncate_latest(project: Project) -> str:
    path = commit_file(project, 1)
    path.write_text(path.read_text()[:60])
    return path.name


def garbage_latest(project: Project) -> str:
    commit_file(project, 1).write_text("not json at all\n")
    return commit_file(project, 1).name


def missing_checkpoint(project: Project) -> str:
    DeltaTable(str(table_dir(project))).create_checkpoint()
    for checkpoint in (table_dir(project) / "_delta_log").glob("*.checkpoint.parquet"):
        checkpoint.unlink()
    return "_last_checkpoint"


def deleted_data_file(project: Project) -> str:
    (data,) = DeltaTable(str(table_dir(project))).file_uris()
    Path(data).unlink()
    return Path(data).name


DAMAGES: dict[str, Callable[[Project], str]] = {
    "truncated log": truncate_latest,
    "garbage log": garbage_latest,
    "missing checkpoint": missing_checkpoint,
    "deleted data file": deleted_data_file,
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_table_fails_alone_naming_its_file(
    project: Project, damage: Callable[[Project], str]
) -> None:
    built_twice(project)
    file = damage(project)
    customers = project.root / "landing" / "customers.csv"
    customers.write_text(customers.read_text() + "9,new customer,n@x.com,BA\n")
    log_before = {p.name: p.read_bytes() for p in (table_dir(project) / "_delta_log").iterdir()}

    step = {str(s.ref): s for s in plan_project(project).plan.steps}["silver.orders"]
    assert step.action == "run"
    assert step.reason.startswith("damaged, the build fails: table `silver.orders` is damaged")
    assert file in step.reason

    result = run_project(project)
    status = {str(m.ref): m for m in result.models}
    assert status["silver.orders"].status == "failed"
    assert file in status["silver.orders"].reason
    assert "afluente repair silver.orders --restore" in status["silver.orders"].reason
    assert {r: status[r].status for r in DOWNSTREAM} == dict.fromkeys(DOWNSTREAM, "skipped")
    # every other table is built (the new customer reaches silver); the damaged one is
    # untouched
    assert {r: status[r].status for r in INDEPENDENT} == {
        "bronze.customers": "success", "bronze.orders": "up_to_date",
        "silver.customers": "success",
    }
    customers_now = Warehouse(project.warehouse_uri).dataset(TableRef("silver", "customers"))
    assert 9 in customers_now.to_table().column("customer_id").to_pylist()
    assert {p.name: p.read_bytes()
            for p in (table_dir(project) / "_delta_log").iterdir()} == log_before


def test_query_reads_the_other_tables_and_names_the_damaged_one(project: Project) -> None:
    from afluente.runtime.query import query_project

    built_twice(project)
    garbage_latest(project)

    counted = query_project(project, "SELECT count(*) AS n FROM silver.customers")
    assert counted.to_pylist() == [{"n": 3}]
    with pytest.raises(DamagedTableError) as refused:
        query_project(project, "SELECT * FROM silver.orders WHERE amount > 0")
    assert refused.value.message.startswith("table `silver.orders` is damaged: ")
    assert "00000000000000000001.json is not valid JSON" in refused.value.message


def test_restore_goes_back_to_the_last_readable_version(project: Project) -> None:
    before = built_twice(project)
    garbage_latest(project)

    done = repair(project, ORDERS, "restore")

    assert done.version == 0
    assert done.lost == [
        "v1: 00000000000000000001.json is not valid JSON "
        "(line 1: Expecting value: line 1 column 1 (char 0))"
    ]
    assert done.kept_at is not None
    assert (done.kept_at / "_delta_log" / "00000000000000000001.json").read_text() == (
        "not json at all\n"
    )
    assert rows(project).equals(before)
    assert run_project(project).status == "success"


def test_restore_drops_a_checkpoint_hint_whose_checkpoint_is_missing(project: Project) -> None:
    before = built_twice(project)
    missing_checkpoint(project)

    done = repair(project, ORDERS, "restore")

    assert (done.version, done.lost) == (1, [])
    assert done.kept_at is not None
    assert (done.kept_at / "_delta_log" / "_last_checkpoint").exists()
    assert rows(project).equals(before)


def test_restore_over_a_deleted_data_file_brings_back_the_complete_version(
    project: Project,
) -> None:
    before = built_twice(project)
    file = deleted_data_file(project)

    done = repair(project, ORDERS, "restore")

    assert done.version == 2  # a RESTORE commit of v0
    (lost,) = done.lost
    assert lost.startswith("the content of v1-v1 (data file ") and file in lost
    assert rows(project).equals(before)
    assert run_project(project).status == "success"


def test_rebuild_sets_the_table_aside_and_rebuilds_it_from_upstream(project: Project) -> None:
    before = built_twice(project)
    truncate_latest(project)

    done = repair(project, ORDERS, "rebuild")

    assert done.version == 0
    assert done.lost == ["the table's earlier versions (time travel before this rebuild)"]
    assert done.kept_at is not None and (done.kept_at / "_delta_log").is_dir()
    assert rows(project).equals(before)
    assert run_project(project).status == "success"


def test_full_refresh_of_the_damaged_table_rebuilds_it(project: Project) -> None:
    before = built_twice(project)
    garbage_latest(project)

    result = run_project(project, "silver.orders+", full_refresh=True)

    assert {str(m.ref): m.status for m in result.models} == {
        "silver.orders": "success", **dict.fromkeys(DOWNSTREAM, "success")
    }
    assert Warehouse(project.warehouse_uri).version(ORDERS) == 0
    assert rows(project).equals(before)
    kept = list((Path(project.warehouse_uri) / "_damaged").iterdir())
    assert [p.name.split("-")[0] for p in kept] == ["silver.orders"]


def afluente(root: Path, *args: str, json_output: bool = True) -> subprocess.CompletedProcess[str]:
    options = ["--json"] if json_output else []
    return run_afluente(["-p", str(root), *options, *args])


def test_commands_name_the_damage_and_keep_working(project: Project, project_dir: Path) -> None:
    built_twice(project)
    garbage_latest(project)

    history = afluente(project_dir, "history", "silver.orders")
    assert history.returncode == 0
    assert [h["version"] for h in json.loads(history.stdout)] == [0]

    assert afluente(project_dir, "docs", "build").returncode == 0
    site_data = (project_dir / "target" / "docs" / "data.js").read_text()
    assert '"status": "damaged", "detail": "table `silver.orders` is damaged: ' in site_data
    checked = afluente(project_dir, "health")
    assert checked.returncode == 0
    health = {t["table"]: t for t in json.loads(checked.stdout)["tables"]}
    assert "00000000000000000001.json is not valid JSON" in health["silver.orders"]["damage"]
    assert health["silver.customers"]["damage"] is None

    explained = json.loads(afluente(project_dir, "repair", "silver.orders").stdout)
    assert "00000000000000000001.json" in explained["damage"]
    restored = json.loads(afluente(project_dir, "repair", "silver.orders", "--restore").stdout)
    assert restored["version"] == 0 and len(restored["lost"]) == 1


def test_show_of_a_deleted_data_file_names_it_without_a_traceback(
    project: Project, project_dir: Path
) -> None:
    built_twice(project)
    file = deleted_data_file(project)
    shown = afluente(project_dir, "show", "silver.orders")
    assert shown.returncode == 1
    assert "table `silver.orders` is damaged: data file" in shown.stderr
    assert file in shown.stderr and "Traceback" not in shown.stderr
    reloaded = load_project(project_dir)
    assert Warehouse(reloaded.warehouse_uri).version(ORDERS) == 1


KINDS = {
    "full": "kind: full\n",
    "append": "kind: append\n",
    "merge": "kind: merge\nunique_key: order_id\n",
    "apply_changes": "kind: apply_changes\nkeys: order_id\nsequence_by: seq\n",
    "snapshot": "kind: snapshot\nkeys: order_id\n",
    "time_range": "kind: time_range\ntime_column: ordered_at\npartition_by: day\n",
}
STATUS_SQL = """
SELECT
    CAST(order_id AS INTEGER) AS order_id,
    CAST(order_id AS INTEGER) AS seq,
    CASE WHEN CAST(order_id AS INTEGER) % 2 = 0 THEN 'placed' ELSE 'cancelled' END AS status,
    CAST(ordered_at AS DATE) AS ordered_at
FROM bronze.orders
"""


@pytest.mark.parametrize("header", KINDS.values(), ids=KINDS.keys())
def test_string_filters_work_after_an_incremental_write(
    project_dir: Path, header: str
) -> None:
    from afluente.runtime.query import query_project

    from .conftest import write

    write(project_dir / "models" / "silver" / "statuses.sql",
          f"/* @config\n{header}*/{STATUS_SQL}")
    write(project_dir / "models" / "gold" / "live.sql",
          "SELECT order_id, status FROM silver.statuses WHERE status <> 'cancelled'\n")
    assert run_project(load_project(project_dir)).status == "success"
    write(project_dir / "landing" / "orders_2.csv",
          "order_id;customer_id;amount;ordered_at\n14;2;10,00;2026-01-05\n"
          "15;1;20,00;2026-03-02\n16;1;5,00;2026-03-02\n")

    result = run_project(load_project(project_dir), "bronze.orders+")

    status = {str(m.ref): (m.status, m.reason) for m in result.models}
    assert status["silver.statuses"][0] == "success"
    assert status["gold.live"][0] == "success", status["gold.live"][1]
    project = load_project(project_dir)
    live = Warehouse(project.warehouse_uri).dataset(TableRef("gold", "live")).to_table()
    assert sorted(live.column("order_id").to_pylist()) == [10, 12, 14, 16]
    placed = query_project(
        project, "SELECT order_id FROM silver.statuses WHERE status = 'placed' ORDER BY 1"
    )
    assert placed.column("order_id").to_pylist() == [10, 12, 14, 16]


REVENUE = TableRef("gold", "monthly_revenue")


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` as a read-only bind mount (root is not stopped by permission bits)."""
    mounted = subprocess.run(["mount", "--bind", str(folder), str(folder)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        require_component("a read-only bind mount", mounted.stderr.strip() or "mount failed")
    try:
        remount = subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)],
                                 capture_output=True, text=True, check=False)
        if remount.returncode != 0:
            require_component("a read-only bind mount", remount.stderr.strip())
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("ref", [REVENUE, ORDERS], ids=["streamed write", "staged write"])
def test_a_read_only_table_folder_is_one_clean_error(
    project: Project, project_dir: Path, ref: TableRef
) -> None:
    run_project(project)
    warehouse = Warehouse(project.warehouse_uri)
    before = warehouse.version(ref), warehouse.dataset(ref).to_table()
    folder = Path(warehouse.uri(ref))

    with read_only(folder):
        ran = afluente(project_dir, "run", "--full-refresh", "--select", str(ref),
                       json_output=False)

    assert ran.returncode == 1
    assert (f"cannot write table `{ref}`: {folder} is not writable "
            "(Read-only file system)") in ran.stderr
    assert "panicked" not in ran.stderr
    assert (warehouse.version(ref), warehouse.dataset(ref).to_table()) == before


def test_a_file_where_the_table_folder_should_be_is_named(
    project: Project, project_dir: Path
) -> None:
    from .conftest import write

    write(project_dir / "models" / "gold" / "extra.sql", "SELECT 1 AS one\n")
    blocker = Path(Warehouse(project.warehouse_uri).uri(TableRef("gold", "extra")))
    write(blocker, "not a folder\n")

    result = run_project(load_project(project_dir))

    status = {str(m.ref): m for m in result.models}
    assert status["gold.extra"].status == "failed"
    assert (f"cannot write table `gold.extra`: {blocker} is not writable (it is a file, not "
            "a folder)") in status["gold.extra"].reason
    assert blocker.read_text() == "not a folder\n"
    assert status["gold.monthly_revenue"].status == "success"


def test_an_unusable_staging_folder_is_named(project: Project) -> None:
    run_project(project)
    warehouse = Warehouse(project.warehouse_uri)
    before = warehouse.version(ORDERS)
    staging = Path(project.warehouse_uri) / "_staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.write_text("not a folder\n")

    result = run_project(project, "silver.orders", full_refresh=True)

    (failed,) = result.failed
    model_file = project.root / "models" / "silver" / "orders.sql"
    assert failed.reason.startswith(
        f"{model_file}:1: cannot write table `silver.orders`: cannot create its staging "
        f"folder {staging}/"
    )
    assert f"make {staging} a folder writable" in failed.reason
    assert warehouse.version(ORDERS) == before
