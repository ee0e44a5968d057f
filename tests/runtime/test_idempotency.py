"""Re-running a run id cannot write twice (Delta app transactions); time travel works."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from afluente.config import Project
from afluente.errors import StorageError, TableNotFoundError
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.storage import Warehouse

REF = TableRef("silver", "things")


def batch(values: list[int]) -> pa.RecordBatchReader:
    return pa.table({"v": values}).to_reader()


def test_same_run_id_writes_once(tmp_path: object) -> None:
    warehouse = Warehouse(str(tmp_path))
    first = warehouse.write(REF, batch([1, 2]), run_id="r1", fingerprint="f", inputs={})
    again = warehouse.write(REF, batch([9, 9, 9]), run_id="r1", fingerprint="f", inputs={})
    assert (first.version, first.rows, first.already_written) == (0, 2, False)
    assert (again.version, again.rows, again.already_written) == (0, 2, True)
    assert warehouse.version(REF) == 0
    assert warehouse.dataset(REF).to_table().column("v").to_pylist() == [1, 2]
    other = warehouse.write(REF, batch([3]), run_id="r2", fingerprint="f", inputs={"x": 1})
    assert other.version == 1
    commit = warehouse.last_commit(REF)
    assert commit is not None
    assert (commit.run_id, commit.fingerprint, commit.inputs) == ("r2", "f", {"x": 1})


def test_rerunning_a_run_id_after_a_crash_does_not_duplicate(project: Project) -> None:
    first = run_project(project)
    warehouse = Warehouse(project.warehouse_uri)
    before = {str(m.ref): warehouse.version(m.ref) for m in first.models}
    replay = run_project(project, full_refresh=True, run_id=first.run_id)
    assert replay.status == "success"
    after = {str(m.ref): warehouse.version(m.ref) for m in replay.models}
    assert after == before


def test_time_travel_by_version_and_timestamp(tmp_path: object) -> None:
    warehouse = Warehouse(str(tmp_path))
    warehouse.write(REF, batch([1]), run_id="a", fingerprint="f", inputs={})
    between = datetime.now(UTC)
    warehouse.write(REF, batch([2, 3]), run_id="b", fingerprint="f", inputs={})
    assert warehouse.open(REF, version=0).to_pyarrow_table().column("v").to_pylist() == [1]
    as_of = warehouse.open(REF, as_of=between).to_pyarrow_table()
    assert as_of.column("v").to_pylist() == [1]
    history = warehouse.history(REF)
    assert [(c.version, c.run_id, c.rows_added) for c in history] == [(1, "b", 2), (0, "a", 1)]
    with pytest.raises(StorageError, match=r"`silver\.things` has no version 7 .*latest.* 1"):
        warehouse.open(REF, version=7)
    with pytest.raises(TableNotFoundError, match=r"has not been built yet"):
        warehouse.open(TableRef("gold", "nothing"))
