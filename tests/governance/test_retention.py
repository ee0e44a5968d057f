"""Retention policies: `retention:` + `retention_column:` on a model delete its older rows
(`afluente retain`, and the scheduler after each run), by the column, in one audited Delta
commit whose predicate holds a date and no value of the rows."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.cli_inprocess import run_afluente

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.errors import ConfigError, ModelError
from afluente.model import TableRef, load_graph
from afluente.runtime import run_project
from afluente.runtime.retention import apply_retention
from afluente.scheduler.loop import Scheduler
from afluente.state.schedule_state import ScheduleState, ScheduleStateStore
from afluente.storage import Warehouse

LOG = ("/* @config\nkind: merge\nunique_key: order_id\nretention: 11 months\n"
       "retention_column: ordered_at\n*/\nSELECT order_id, ordered_at FROM silver.orders\n")
DECADE = ("/* @config\nretention: 10 years\nretention_column: ordered_at\n*/\n"
          "SELECT order_id, ordered_at FROM silver.orders\n")
YEARLY = '\nschedules:\n  yearly:\n    cron: "0 0 1 1 *"\n'


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scaffold with one order from 2000 and two models declaring retention, built."""
    root = tmp_path_factory.mktemp("retention") / "shop"
    scaffold(root)
    with (root / "landing" / "orders.csv").open("a") as landing:
        landing.write("14;2;10,00;2000-01-01\n")
    (root / "models" / "gold" / "orders_log.sql").write_text(LOG)
    (root / "models" / "gold" / "orders_decade.sql").write_text(DECADE)
    assert run_project(load_project(root)).status == "success"
    return root


def ids(root: Path, table: str) -> list[int]:
    data = Warehouse(load_project(root).warehouse_uri).dataset(TableRef.parse(table))
    return sorted(data.to_table().column("order_id").to_pylist())


def audit(root: Path) -> list[dict[str, object]]:
    lines = (root / ".afluente" / "audit.log").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["action"] == "retention"]


def test_retention_deletes_the_older_rows_in_one_audited_commit(
        shop: Path, tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(shop, root)
    project = load_project(root)
    now = datetime(2026, 12, 10, 8, 0, tzinfo=UTC)  # 11 months: before 2026-01-10 08:00
    (decade, log) = apply_retention(project, now=now)
    assert (log.table, log.rows_deleted, log.version) == ("gold.orders_log", 3, 1)
    assert log.cutoff == datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
    assert (decade.table, decade.rows_deleted, decade.version) == ("gold.orders_decade", 1, 1)
    assert ids(root, "gold.orders_log") == [12, 13]
    assert ids(root, "gold.orders_decade") == [10, 11, 12, 13]
    commit = [json.loads(line) for line in (root / "warehouse" / "gold" / "orders_log" /
              "_delta_log" / "00000000000000000001.json").read_text().splitlines()]
    (info,) = [a["commitInfo"] for a in commit if "commitInfo" in a]
    assert info["operation"] == "DELETE"
    assert info["operationParameters"]["predicate"] == "ordered_at < '2026-01-10'::date"
    assert info["afluente.operation"] == "retention"
    entries = audit(root)
    assert [(e["object"], e["detail"]) for e in entries] == [  # in build order
        ("gold.orders_decade", {"column": "ordered_at", "retention": "10 years",
                                "older_than": "2016-12-10T08:00:00+00:00",
                                "rows_deleted": 1, "version": 1}),
        ("gold.orders_log", {"column": "ordered_at", "retention": "11 months",
                             "older_than": "2026-01-10T08:00:00+00:00", "rows_deleted": 3,
                             "version": 1})]
    # nothing older left: no commit, no audit entry
    assert [r.version for r in apply_retention(project, now=now)] == [None, None]
    assert len(audit(root)) == 2
    # the models' next run finds them up to date: the deleted rows do not come back
    assert run_project(project).status == "success"
    assert ids(root, "gold.orders_log") == [12, 13]
    assert ids(root, "gold.orders_decade") == [10, 11, 12, 13]
    assert Warehouse(project.warehouse_uri).version(TableRef.parse("gold.orders_log")) == 1


def test_afluente_retain_and_the_scheduler(shop: Path, tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(shop, root)
    config = (root / "afluente.yml").read_text()
    (root / "afluente.yml").write_text(config + "governance:\n  admins: [user:someone_else]\n")
    done = run_afluente(["-p", str(root), "retain"])
    assert done.returncode == 1
    assert "has no MODIFY grant on gold.orders_decade" in done.stderr
    assert ids(root, "gold.orders_decade") == [10, 11, 12, 13, 14]  # nothing deleted
    (root / "afluente.yml").write_text(config)
    done = run_afluente(["-p", str(root), "--json", "retain", "--select", "gold.orders_decade"])
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)
    assert (result["table"], result["rows_deleted"], result["version"]) == (
        "gold.orders_decade", 1, 1)
    assert ids(root, "gold.orders_decade") == [10, 11, 12, 13]
    # the scheduler applies the retention after a scheduled run
    with (root / "afluente.yml").open("a") as yml:
        yml.write(YEARLY)
    project = load_project(root)
    slot = datetime(datetime.now(UTC).year, 1, 1, tzinfo=UTC)
    with ScheduleStateStore.open(project.state_url) as store:
        store.save_schedule_state(ScheduleState(
            "yearly", "schedule", last_slot=slot.replace(year=slot.year - 1),
            last_status="success"))
    Scheduler(project, poll=0.1).serve(once=True)
    assert 14 not in ids(root, "gold.orders_log")
    assert [e["object"] for e in audit(root)] == ["gold.orders_decade", "gold.orders_log"]


@pytest.mark.parametrize(("header", "says"), [
    ("retention: 5 years", "`retention` and `retention_column` go together"),
    ("retention: 5 weeks\nretention_column: ordered_at", "'5 weeks' is not a retention period"),
])
def test_a_wrong_retention_is_a_config_error(shop: Path, tmp_path: Path, header: str,
                                             says: str) -> None:
    root = tmp_path / "shop"
    shutil.copytree(shop, root)
    (root / "models" / "gold" / "orders_decade.sql").write_text(
        f"/* @config\n{header}\n*/\nSELECT order_id, ordered_at FROM silver.orders\n")
    with pytest.raises((ConfigError, ModelError)) as raised:
        load_graph(load_project(root))
    assert says in str(raised.value.render() if hasattr(raised.value, "render")
                       else raised.value)


def test_retention_on_a_source_applies_to_its_bronze_table(tmp_path: Path) -> None:
    """`retention:` on a source: `afluente retain` deletes its bronze table's older rows;
    declaring it rebuilds nothing (out of the fingerprint) and the next run does not ingest
    the deleted rows again."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path / "visits"
    (root / "landing").mkdir(parents=True)
    pq.write_table(pa.table({"visit_id": [1, 2, 3], "day": [
        dt.date(2001, 5, 1), dt.date(2026, 1, 2), dt.date(2026, 3, 4)]}),
        root / "landing" / "visits.parquet")
    source = ("name: visits\nsources:\n  visits:\n    type: files\n"
              "    path: landing/visits.parquet\n    format: parquet\n")
    (root / "afluente.yml").write_text(source)
    assert run_project(load_project(root)).status == "success"
    before = load_graph(load_project(root)).fingerprints
    (root / "afluente.yml").write_text(source + "    retention: 10 years\n"
                                       "    retention_column: day\n")
    assert load_graph(load_project(root)).fingerprints == before
    done = run_afluente(["-p", str(root), "--json", "retain"])
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)
    assert (result["table"], result["retention"], result["rows_deleted"]) == (
        "bronze.visits", "10 years", 1)

    def visits() -> list[int]:
        data = Warehouse(load_project(root).warehouse_uri).dataset(TableRef("bronze", "visits"))
        return sorted(data.to_table().column("visit_id").to_pylist())

    assert visits() == [2, 3]
    assert run_project(load_project(root)).status == "success"
    assert visits() == [2, 3]
    assert [e["object"] for e in audit(root)] == ["bronze.visits"]


def test_a_source_retention_without_its_column_is_a_config_error(shop: Path,
                                                                 tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(shop, root)
    config = (root / "afluente.yml").read_text()
    options = '    options: {delimiter: ";"}\n'
    period = "    retention: 2 years\n"  # without its column
    (root / "afluente.yml").write_text(config.replace(options, options + period))
    with pytest.raises(ConfigError) as raised:
        load_project(root)
    assert "`retention` and `retention_column` go together" in raised.value.render()
