"""Table maintenance (`afluente maintain`, `maintenance:`): compaction and Z-order keep every
row, time travel within the declared retention still reads, a vacuum below it is refused,
a held table lock makes it wait or fail naming the holder, and the scheduler keeps an
append-heavy table's file count bounded over a week of micro-batches."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import update
from tests.cli_inprocess import run_afluente

from afluente.cli.scaffold import scaffold
from afluente.config import Project, load_project
from afluente.config.maintenance import MaintenanceSpec
from afluente.errors import ConfigError, LockTimeoutError, StorageError
from afluente.model import TableRef, load_graph
from afluente.runtime import run_project
from afluente.runtime.maintenance import maintain_tables
from afluente.scheduler.loop import Scheduler
from afluente.scheduler.maintenance_trigger import maintain_due, why_due
from afluente.state import StateStore, schema
from afluente.state.locks import acquire_locks, release_locks
from afluente.state.schedule_state import ScheduleState, ScheduleStateStore
from afluente.storage import Warehouse

ORDERS = TableRef("bronze", "orders")
SILVER = TableRef("silver", "orders")
LINE = "{id};{customer};{amount},00;2026-0{month}-1{day}\n"


def shop(root: Path, maintenance: str, batches: int = 3) -> Project:
    """The scaffold, its orders source declaring `maintenance`, built from `batches` files
    (one bronze commit each)."""
    scaffold(root)
    with (root / "afluente.yml").open("a") as config:
        config.write(f"    maintenance: {maintenance}\n")
    model = root / "models" / "silver" / "orders.sql"
    model.write_text(model.read_text().replace(
        "/* @config\n",
        "/* @config\nmaintenance: {z_order: [customer_id, order_id], time_travel: 1 day}\n"))
    project = load_project(root)
    assert run_project(project).status == "success"
    header = (root / "landing" / "orders.csv").read_text().splitlines()[0]
    for batch in range(1, batches):
        rows = "".join(LINE.format(id=100 * batch + i, customer=1 + i % 3, amount=batch + i,
                                   month=1 + i % 9, day=i % 9) for i in range(5))
        (root / "landing" / f"orders_{batch}.csv").write_text(header + "\n" + rows)
        assert run_project(project).status == "success"
    return project


def content(warehouse: Warehouse, ref: TableRef, version: int | None = None) -> str:
    """A hash of the version's rows, sorted."""
    rows = warehouse.dataset(ref, version).to_table().to_pylist()
    text = json.dumps(sorted(rows, key=lambda r: json.dumps(r, default=str, sort_keys=True)),
                      default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def data_files(warehouse: Warehouse, ref: TableRef) -> int:
    return len(warehouse.dataset(ref).files)


def events(project: Project, kind: str) -> list[dict[str, object]]:
    with StateStore.open(project.state_url) as state:
        return [{"model": e.model, **e.payload} for e in state.events() if e.type == kind]


def test_maintain_keeps_every_row_and_time_travel_within_retention(tmp_path: Path) -> None:
    project = shop(tmp_path / "shop", "{time_travel: 1 day}")
    warehouse = Warehouse(project.warehouse_uri)
    versions = {ref: warehouse.version(ref) for ref in (ORDERS, SILVER)}
    before = {ref: content(warehouse, ref) for ref in (ORDERS, SILVER)}
    first = content(warehouse, ORDERS, 0)
    assert data_files(warehouse, ORDERS) == 3

    results = {r.table: r for r in maintain_tables(project)}

    assert set(results) == {"bronze.orders", "silver.orders"}
    bronze = results["bronze.orders"].done
    assert (bronze.before.files, bronze.after.files) == (3, 1)
    assert (bronze.files_removed, bronze.files_added) == (3, 1)
    assert bronze.files_vacuumed == 0  # removed just now: kept for the day of time travel
    assert results["silver.orders"].done.z_ordered
    for ref in (ORDERS, SILVER):
        assert content(warehouse, ref) == before[ref]
        assert content(warehouse, ref, versions[ref]) == before[ref]  # time travel
    assert content(warehouse, ORDERS, 0) == first
    assert data_files(warehouse, ORDERS) == 1
    logged = {e["model"]: e for e in events(project, "maintenance")}
    assert logged["bronze.orders"]["before"]["files"] == 3  # type: ignore[index]
    assert logged["bronze.orders"]["after"]["files"] == 1  # type: ignore[index]
    assert logged["silver.orders"]["probe"].startswith("customer_id = ")  # type: ignore[union-attr]
    # the commits carry the build metadata: the source's own next run finds nothing to do
    again = run_project(project, "bronze.orders")
    assert [m.status for m in again.models] == ["up_to_date"]


def test_a_vacuum_below_the_declared_time_travel_is_refused(tmp_path: Path) -> None:
    project = shop(tmp_path / "shop", "{time_travel: 2 days}", batches=2)
    warehouse = Warehouse(project.warehouse_uri)
    version, files = warehouse.version(ORDERS), warehouse.dataset(ORDERS).files

    with pytest.raises(ConfigError) as caught:
        maintain_tables(project, "bronze.orders", vacuum=timedelta(hours=12))

    assert caught.value.message == (
        "`bronze.orders`: a vacuum retention of 12 hours is below its declared time travel "
        "of 2 days (maintenance: time_travel:); versions within it would lose their files")
    assert "vacuum with at least 2 days" in str(caught.value.hint)
    assert warehouse.version(ORDERS) == version
    assert warehouse.dataset(ORDERS).files == files


def test_a_declared_vacuum_below_time_travel_is_an_error_at_its_line(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    scaffold(root)
    (root / "models" / "silver" / "_defaults.yml").write_text(
        "tags: [typed]\nmaintenance:\n  time_travel: 7 days\n  vacuum: 1 day\n")

    with pytest.raises(ConfigError) as caught:
        load_graph(load_project(root))

    assert "vacuum: 1 day is below time_travel: 7 days" in caught.value.message
    assert caught.value.location is not None
    assert Path(caught.value.location.file).name == "_defaults.yml"
    assert caught.value.location.line == 2  # the `maintenance:` block


def test_maintain_while_a_run_holds_the_table_lock_fails_naming_it(tmp_path: Path) -> None:
    project = shop(tmp_path / "shop", "{time_travel: 1 day}")
    warehouse = Warehouse(project.warehouse_uri)
    version = warehouse.version(ORDERS)
    with StateStore.open(project.state_url) as state:
        acquire_locks(state, ["table:bronze.orders"], "run-20261203-holder", wait=timedelta(0))
        try:
            with pytest.raises(LockTimeoutError) as caught:
                maintain_tables(project, "bronze.orders", wait=timedelta(0))
        finally:
            release_locks(state, "run-20261203-holder")

    assert caught.value.message.startswith(
        "`table:bronze.orders` is locked by `run-20261203-holder` (pid ")
    assert warehouse.version(ORDERS) == version
    assert data_files(warehouse, ORDERS) == 3


def test_maintain_waits_for_the_holder_and_then_runs(tmp_path: Path) -> None:
    project = shop(tmp_path / "shop", "{time_travel: 1 day}")
    warehouse = Warehouse(project.warehouse_uri)
    before = content(warehouse, ORDERS)
    done: list[object] = []
    with StateStore.open(project.state_url) as state:
        acquire_locks(state, ["table:bronze.orders"], "run-holder", wait=timedelta(0))
        worker = threading.Thread(target=lambda: done.extend(maintain_tables(
            project, "bronze.orders", wait=timedelta(minutes=10))))
        worker.start()
        while not events(project, "lock_wait"):
            assert worker.is_alive()
            worker.join(0.05)
        assert data_files(warehouse, ORDERS) == 3  # nothing done while the lock is held
        release_locks(state, "run-holder")
        worker.join()

    (wait,) = events(project, "lock_wait")
    assert (wait["model"], wait["holder"]) == ("bronze.orders", "run-holder")
    assert len(done) == 1
    assert data_files(warehouse, ORDERS) == 1
    assert content(warehouse, ORDERS) == before


def test_a_week_of_micro_batches_stays_bounded_with_scheduled_maintenance(
        tmp_path: Path) -> None:
    """7 days × 96 micro-batches (one every 15 minutes) appended to bronze.orders; the
    scheduler's trigger maintains it every 96 commits. Without it: 673 files."""  # noqa: RUF002
    project = shop(tmp_path / "shop", "{every_commits: 96, time_travel: 0s}", batches=1)
    warehouse = Warehouse(project.warehouse_uri)
    graph = load_graph(project)
    fingerprint = graph.fingerprints[ORDERS]
    expected = warehouse.dataset(ORDERS).to_table().num_rows
    one = warehouse.dataset(ORDERS).head(1)  # each micro-batch: one more such row
    with ScheduleStateStore.open(project.state_url) as store:
        for batch in range(7 * 96):
            warehouse.append(ORDERS, pa.RecordBatchReader.from_batches(
                one.schema, one.to_batches()), run_id=f"batch-{batch}",
                fingerprint=fingerprint, inputs={}, progress={})
            expected += 1
            maintain_due(project, store, graph)

    assert warehouse.dataset(ORDERS).to_table().num_rows == expected
    runs = events(project, "maintenance")
    assert len(runs) == 7
    # the most files the table ever had: just before each maintenance (96 new at most + 1)
    assert max(r["before"]["files"] for r in runs) <= 97  # type: ignore[index]
    assert [r["after"]["files"] for r in runs] == [1] * 7  # type: ignore[index]
    assert data_files(warehouse, ORDERS) <= 97
    assert all(r["files_vacuumed"] for r in runs)  # time_travel 0s: the compacted files go
    assert (Path(warehouse.uri(ORDERS)) / "_delta_log" / "_last_checkpoint").exists()


def test_why_due_counts_commits_and_cron_slots() -> None:
    spec = MaintenanceSpec(every_commits=10, cron="0 3 * * *")
    now = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    fresh = ScheduleState("bronze.orders", "maintenance")

    reason, state = why_due(spec, fresh, 4, now)
    assert reason is None  # 5 commits; a first look only sets the slot
    assert state.last_slot == datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    assert why_due(spec, state.but(cursor={"version": 4}), 14, now)[0] == (
        "10 commits since its last maintenance")
    reason, later = why_due(spec, state.but(cursor={"version": 4}), 5, now + timedelta(days=1))
    assert reason == "cron slot 2026-12-04 03:00 UTC"
    assert later.last_slot == datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


def test_the_command_prints_figures_before_and_after(tmp_path: Path) -> None:
    project = shop(tmp_path / "shop", "{time_travel: 1 day}")

    done = run_afluente(["-p", str(project.root), "--json", "maintain", "bronze.orders"])

    assert done.returncode == 0, done.stderr
    (table,) = json.loads(done.stdout)
    assert table["table"] == "bronze.orders"
    assert (table["before"]["files"], table["after"]["files"]) == (3, 1)
    assert table["before"]["rows_matching"] == table["after"]["rows_matching"]
    assert table["vacuum_retention_hours"] == 24


def test_the_scheduler_maintains_a_table_once_its_commits_are_due(tmp_path: Path) -> None:
    project = shop(tmp_path / "shop", "{every_commits: 3, time_travel: 1 day}")
    warehouse = Warehouse(project.warehouse_uri)
    before = content(warehouse, ORDERS)

    Scheduler(project, poll=0.1).serve(once=True)

    assert data_files(warehouse, ORDERS) == 1
    assert content(warehouse, ORDERS) == before
    assert [e["model"] for e in events(project, "maintenance")] == ["bronze.orders"]
    with ScheduleStateStore.open(project.state_url) as store:
        state = store.schedule_state("maintenance", "bronze.orders")
    assert state.cursor == {"version": warehouse.version(ORDERS)}
    Scheduler(project, poll=0.1).serve(once=True)  # not due again: no new commit
    assert len(events(project, "maintenance")) == 1


def test_maintain_under_governance_takes_modify(tmp_path: Path) -> None:
    project = shop(tmp_path / "shop", "{time_travel: 1 day}")
    with (project.root / "afluente.yml").open("a") as config:
        config.write("governance:\n  admins: [user:someone_else]\n")
    warehouse = Warehouse(project.warehouse_uri)
    version = warehouse.version(ORDERS)

    done = run_afluente(["-p", str(project.root), "maintain", "bronze.orders"])

    assert done.returncode == 1
    assert "has no MODIFY grant on bronze.orders" in done.stderr
    assert warehouse.version(ORDERS) == version
    assert data_files(warehouse, ORDERS) == 3


def test_a_project_wide_block_applies_to_every_table_but_views(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    scaffold(root)
    (root / "models" / "_defaults.yml").write_text("maintenance: {time_travel: 3 days}\n")
    (root / "models" / "gold" / "big_orders.sql").write_text(
        "/* @config\nkind: view\n*/\nSELECT * FROM silver.orders WHERE amount > 100\n")

    graph = load_graph(load_project(root))

    assert graph[TableRef("gold", "big_orders")].config.maintenance is None
    spec = graph[SILVER].config.maintenance
    assert spec is not None and spec.time_travel == timedelta(days=3)
    assert spec.vacuum_after == timedelta(days=3)
    assert graph[ORDERS].config.maintenance is None  # a source declares its own


def test_an_append_model_reads_only_new_rows_across_a_maintenance(tmp_path: Path) -> None:
    """Compaction rewrote bronze.orders' files (dataChange false): the append model reading
    it finds nothing new after maintenance, then only the next batch's file."""
    root = tmp_path / "shop"
    project = shop(root, "{time_travel: 1 day}")
    (root / "models" / "silver" / "orders_log.sql").write_text(
        "/* @config\nkind: append\n*/\nSELECT order_id, amount FROM bronze.orders\n")
    log = TableRef("silver", "orders_log")
    assert run_project(project, "silver.orders_log").status == "success"
    warehouse = Warehouse(project.warehouse_uri)
    version = warehouse.version(log)
    maintain_tables(project, "bronze.orders")

    after = run_project(project, "silver.orders_log")

    assert [(m.status, m.reason) for m in after.models] == [("up_to_date", "up to date (v0)")]
    assert warehouse.version(log) == version
    header = (root / "landing" / "orders.csv").read_text().splitlines()[0]
    (root / "landing" / "orders_9.csv").write_text(header + "\n901;1;9,00;2026-03-01\n")
    assert run_project(project, "bronze.orders").status == "success"

    grown = run_project(project, "silver.orders_log")

    (built,) = grown.models
    assert built.status == "success"
    assert built.reason.startswith("incremental: 1 new file(s) of `bronze.orders`"), built.reason
    ids = warehouse.dataset(log).to_table().column("order_id").to_pylist()
    assert sorted(ids) == sorted(warehouse.dataset(ORDERS).to_table()
                                 .column("order_id").to_pylist())
    assert "901" in ids
    assert len(ids) == len(set(ids))  # nothing read twice


def test_a_z_order_column_the_table_lacks_is_named_and_nothing_is_written(
        tmp_path: Path) -> None:
    project = shop(tmp_path / "shop", "{z_order: [order_date], time_travel: 1 day}",
                   batches=2)
    warehouse = Warehouse(project.warehouse_uri)
    version = warehouse.version(ORDERS)

    with pytest.raises(StorageError) as caught:
        maintain_tables(project, "bronze.orders")

    assert caught.value.message.startswith(
        "`bronze.orders` has no column `order_date` to Z-order by (it has order_id, ")
    assert caught.value.hint == "fix `maintenance: z_order:` of the model"
    assert warehouse.version(ORDERS) == version
    assert data_files(warehouse, ORDERS) == 2


def test_a_vacuum_keeps_what_a_run_reading_for_two_hours_may_need(tmp_path: Path) -> None:
    """time_travel 0s, but a live run started two hours ago: the vacuum keeps files removed
    within those two hours (3 h, rounded up), so the compacted files stay; the checkpoint
    waits (it would drop their tombstones), and the next maintenance deletes them."""
    project = shop(tmp_path / "shop", "{time_travel: 0s}")
    warehouse = Warehouse(project.warehouse_uri)
    with StateStore.open(project.state_url) as state:
        state.start_run("reader-run", "shop", None, {})  # this process: alive
        with state._engine.begin() as conn:
            conn.execute(update(schema.runs).where(schema.runs.c.run_id == "reader-run")
                         .values(started_at=datetime.now(UTC) - timedelta(hours=2)))
        (result,) = maintain_tables(project, "bronze.orders")
        state.finish_run("reader-run", "success")

    assert result.done.vacuum_retention is not None
    assert timedelta(hours=2) < result.done.vacuum_retention <= timedelta(hours=3)
    assert result.done.files_vacuumed == 0
    assert result.done.checkpoint is None
    assert warehouse.dataset(ORDERS, 0).count_rows() > 0  # v0's files are still there
    (again,) = maintain_tables(project, "bronze.orders")  # no live run: nothing kept
    assert again.done.vacuum_retention == timedelta(0)
    assert again.done.files_vacuumed == 3


def test_a_full_model_downstream_is_up_to_date_after_a_maintenance(tmp_path: Path) -> None:
    """Maintenance commits rewrite files without changing data (`afluente.data_version` names
    the version whose data they hold): the `full` gold table over silver does not rebuild;
    new data in silver afterwards does rebuild it."""
    root = tmp_path / "shop"
    project = shop(root, "{time_travel: 1 day}")
    gold = TableRef("gold", "revenue_by_state")
    warehouse = Warehouse(project.warehouse_uri)
    built, silver_before = warehouse.version(gold), warehouse.version(SILVER)
    maintain_tables(project, "silver.orders")
    maintain_tables(project, "silver.orders")  # a second maintenance holds the same data
    assert warehouse.version(SILVER) > silver_before

    after = run_project(project)

    assert {str(m.ref): m.status for m in after.models}[str(gold)] == "up_to_date"
    assert warehouse.version(gold) == built
    header = (root / "landing" / "orders.csv").read_text().splitlines()[0]
    (root / "landing" / "orders_9.csv").write_text(header + "\n901;1;9,00;2026-03-01\n")

    grown = run_project(project)

    rebuilt = {str(m.ref): m for m in grown.models}[str(gold)]
    assert rebuilt.status == "success"
    assert "`silver.orders`" in rebuilt.reason  # rebuilt, or its touched groups recomputed
    assert warehouse.version(gold) == built + 1
    assert run_project(project, "gold.revenue_by_state", full_refresh=True).status == "success"
    assert content(warehouse, gold, built + 1) == content(warehouse, gold)  # = a full rebuild
