"""`Warehouse.progress_history` reads the newest commits first: a stream's summary in its
last commit costs one short read, and progress spread over more commits than the window is
still found back to the last summary or overwrite."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from afluente.model import TableRef
from afluente.storage import Warehouse
from afluente.storage.warehouse import PROGRESS_WINDOW

REF = TableRef("bronze", "s")


def _commit(warehouse: Warehouse, n: int, progress: dict[str, object]) -> None:
    rows = pa.table({"n": [n]})
    warehouse.append(REF, rows.to_reader(), run_id=f"r{n}", fingerprint="f", inputs={},
                     progress=progress)


def test_progress_older_than_the_window_is_read_back_to_the_summary(tmp_path: Path) -> None:
    warehouse = Warehouse(str(tmp_path))
    _commit(warehouse, 0, {"files": {"a": "1"}, "complete": True})
    extra = PROGRESS_WINDOW + 3
    for n in range(1, extra + 1):
        _commit(warehouse, n, {"files": {f"f{n}": "1"}})
    found = warehouse.progress_history(REF)
    assert len(found) == extra + 1  # every commit since the summary, the summary last
    assert found[0] == {"files": {f"f{extra}": "1"}}
    assert found[-1] == {"files": {"a": "1"}, "complete": True}


def test_a_summary_in_the_newest_commit_ends_the_read(tmp_path: Path) -> None:
    warehouse = Warehouse(str(tmp_path))
    for n in range(PROGRESS_WINDOW + 2):
        _commit(warehouse, n, {"kafka": {"t": {"0": n + 1}}, "complete": True})
    assert warehouse.progress_history(REF) == [
        {"kafka": {"t": {"0": PROGRESS_WINDOW + 2}}, "complete": True}]


def test_a_short_history_without_summary_is_read_whole(tmp_path: Path) -> None:
    warehouse = Warehouse(str(tmp_path))
    for n in range(3):
        _commit(warehouse, n, {"cursor": n})
    assert warehouse.progress_history(REF) == [{"cursor": 2}, {"cursor": 1}, {"cursor": 0}]
