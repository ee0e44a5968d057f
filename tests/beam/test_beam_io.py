"""The Apache Beam I/O (afluente.io.beam) on Beam's DirectRunner, batch and streaming.

Beam pins pyarrow<26, so its pipelines run in their own venv, `.venv-beam` (the Makefile's
`beam-env`, built by `make test`): `pipelines.py` runs every scenario in one process there
and prints what it saw; these tests assert that and read the Delta tables and the state
store back in the main venv. Without `.venv-beam` the tests skip, and fail under CI=true.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import require_component

from afluente.config import load_project
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.state import StateStore
from afluente.storage import Warehouse

REPO = Path(__file__).resolve().parents[2]
BEAM_PYTHON = Path(os.environ.get("AFLUENTE_BEAM_PYTHON", REPO / ".venv-beam" / "bin" / "python"))

ORDERS = """
select id, customer, cast(amount as double) as amount
from (values (1, 'ana', 10.5), (2, 'bia', 20.0), (3, 'ana', 7.25), (4, 'caio', -1.0))
    as t(id, customer, amount)
"""
TOTALS = """
/* @config
contract: enforced
columns:
  customer: {type: VARCHAR}
  total: {type: DOUBLE}
*/
select customer, sum(amount) as total from silver.orders group by customer
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """silver.orders built by afluente; gold.customer_totals declared (with a contract) for
    Beam to write."""
    root = tmp_path_factory.mktemp("beam-project")
    (root / "afluente.yml").write_text("name: beamio\n", encoding="utf-8")
    for path, sql in {"silver/orders.sql": ORDERS, "gold/customer_totals.sql": TOTALS}.items():
        (root / "models" / path).parent.mkdir(parents=True, exist_ok=True)
        (root / "models" / path).write_text(textwrap.dedent(sql).strip() + "\n")
    assert run_project(load_project(root), "silver.orders").status == "success"
    return root


@pytest.fixture(scope="module")
def governed_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """silver.orders built, then a `governance:` block whose role for this OS user (not an
    ADMIN) redacts `customer` and shows only positive amounts."""
    root = tmp_path_factory.mktemp("beam-governed")
    (root / "afluente.yml").write_text("name: beamgov\n", encoding="utf-8")
    (root / "models" / "silver").mkdir(parents=True)
    (root / "models" / "silver" / "orders.sql").write_text(textwrap.dedent(ORDERS))
    assert run_project(load_project(root), "silver.orders").status == "success"
    (root / "afluente.yml").write_text(textwrap.dedent(f"""\
        name: beamgov
        governance:
          admins: [user:someone-else]
          roles:
            reader:
              members: [user:{getpass.getuser()}]
              grants: [select: silver]
              masks: {{silver.orders.customer: redact}}
              row_filters: {{silver.orders: "amount > 0"}}
        """), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def beam_python() -> Path:
    """The Beam venv's interpreter (asked for before any project is built)."""
    if not BEAM_PYTHON.is_file():
        require_component("the Beam venv", f"{BEAM_PYTHON} is missing; build it with "
                          "`make beam-env` (it needs the `beam` extra)")
    return BEAM_PYTHON


@pytest.fixture(scope="module")
def seen(beam_python: Path, project: Path, governed_project: Path) -> dict[str, Any]:
    """Every scenario of pipelines.py, run once in the Beam venv."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + str(REPO)}
    done = subprocess.run([str(beam_python), str(Path(__file__).with_name("pipelines.py")),
                           str(project), "--governed", str(governed_project)],
                          capture_output=True, text=True, env=env,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def rows(project: Path, table: str, version: int | None = None) -> list[dict[str, Any]]:
    warehouse = Warehouse(load_project(project).warehouse_uri)
    return warehouse.dataset(TableRef.parse(table), version).to_table().to_pylist()


def versions(project: Path, table: str) -> list[int]:
    warehouse = Warehouse(load_project(project).warehouse_uri)
    return sorted(c.version for c in warehouse.history(TableRef.parse(table)))


def test_batch_reads_a_table_and_merges_into_a_declared_one(project: Path,
                                                            seen: dict[str, Any]) -> None:
    batch = seen["batch"]
    (commit,) = batch["commits"]
    assert commit["rows"] == 2 and commit["already_written"] is False
    totals = {r["customer"]: r["total"] for r in rows(project, "gold.customer_totals")}
    assert totals == {"ana": 17.75, "bia": 20.0}  # caio's -1.0 filtered out by the read
    # recorded as a run of afluente: `afluente runs` and the lineage of versions
    with StateStore.open(load_project(project).state_url) as state:
        run = state.get_run(commit["run_id"])
        events = state.events(commit["run_id"])
    assert run.status == "success" and run.selector == "gold.customer_totals"
    assert run.args["beam"]["pipeline"] == "batch-1"
    (model,) = run.models
    assert model.versions_read == {"silver.orders": batch["read_version"]}
    assert (model.version_written, model.rows_written) == (0, 2)
    assert [e.type for e in events] == ["table_committed"]
    warehouse = Warehouse(load_project(project).warehouse_uri)
    (head,) = warehouse.history(TableRef.parse("gold.customer_totals"))
    assert head.run_id == commit["run_id"] and head.inputs == {"silver.orders": 0}


def test_a_read_is_split_by_delta_file(project: Path, seen: dict[str, Any]) -> None:
    batch = seen["batch"]
    assert sorted(c["shard"] for c in batch["split_commits"]) == [0, 1, 2]
    assert versions(project, "bronze.events") == [0, 1, 2]  # one commit per shard
    assert batch["event_files"] == 3
    assert batch["events_read"] == list(range(30))


def test_streaming_windows_commit_once_each(project: Path, seen: dict[str, Any]) -> None:
    commits = seen["streaming"]["commits"]
    assert sorted(c["window"] for c in commits) == [
        "0-10000000", "10000000-20000000", "20000000-30000000"]
    assert versions(project, "gold.window_totals") == [0, 1, 2]
    got = sorted((r["window_start"], r["customer"], r["total"])
                 for r in rows(project, "gold.window_totals"))
    assert got == [(0, "ana", 12.5), (0, "bia", 5.0), (10, "ana", 1.0), (10, "bia", 4.0),
                   (20, "caio", 3.0)]


def test_a_group_retried_after_its_commit_is_not_written_twice(
        project: Path, seen: dict[str, Any]) -> None:
    retry = seen["retry"]
    assert retry["failure"].startswith("worker lost after committing")
    again = {c["run_id"]: c for c in retry["second_run"]}
    assert len(again) == 4
    assert again[retry["crashed_run"]]["already_written"] is True
    assert sum(not c["already_written"] for c in again.values()) == 3
    assert sorted(r["n"] for r in rows(project, "bronze.retried")) == list(range(40))
    assert versions(project, "bronze.retried") == [0, 1, 2, 3]
    first, second = retry["twice"]
    assert (first["already_written"], second["already_written"]) == (False, True)
    assert second["version"] == first["version"]
    assert sorted(r["n"] for r in rows(project, "bronze.twice")) == [1, 2]


def test_an_unknown_table_names_the_closest(seen: dict[str, Any]) -> None:
    bad = seen["bad_input"]
    assert "unknown table `gold.customer_total`" in bad["unknown_write"]["error"]
    assert "did you mean `gold.customer_totals`" in bad["unknown_write"]["error"]
    assert "did you mean `silver.orders`?" in bad["unknown_read"]["error"]
    assert "create=True" in bad["unknown_write"]["error"]
    assert "create=True" not in bad["unknown_read"]["error"]


def test_rows_that_do_not_fit_name_the_column_and_keep_the_version(
        project: Path, seen: dict[str, Any]) -> None:
    bad = seen["bad_input"]
    wrong = bad["wrong_type"]
    assert wrong["type"] == "BundleSchemaError"
    assert "column `total` of `gold.customer_totals` is double" in wrong["error"]
    assert "'lots' (str)" in wrong["error"]
    assert wrong["before"] == wrong["after"] == 0
    assert {r["customer"] for r in rows(project, "gold.customer_totals")} == {"ana", "bia"}


def test_a_governed_project_is_read_as_the_workers_principal(seen: dict[str, Any]) -> None:
    got = [(r["id"], r["customer"], r["amount"]) for r in seen["governed"]["rows"]]
    assert got == [(1, "****", 10.5), (2, "****", 20.0), (3, "****", 7.25)]


def test_the_beam_venv_keeps_its_own_pins(seen: dict[str, Any]) -> None:
    """The reason for the separate venv: Beam's pyarrow is not the main venv's."""
    found = seen["versions"]
    assert tuple(int(p) for p in found["apache_beam"].split(".")[:2]) >= (2, 77)
    assert int(found["pyarrow"].split(".")[0]) < 26
