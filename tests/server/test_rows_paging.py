"""Pages deep into a table skip the files and row groups before them, and give the same rows
as reading it whole would."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from tests.server.conftest import Served

from afluente.config import load_project
from afluente.governance.reader import GovernedReader
from afluente.governance.scan import _window, table_page
from afluente.model import TableRef


def test_pages_over_files_and_row_groups(served: Served, tmp_path: Path) -> None:
    for part, start in enumerate((0, 35, 60)):  # files of 35, 25 and 40 rows
        size = {0: 35, 1: 25, 2: 40}[part]
        ids = list(range(start, start + size))
        pq.write_table(pa.table({"id": ids, "label": [f"r{i}" for i in ids]}),
                       tmp_path / f"part-{part}.parquet", row_group_size=10)
    dataset = pads.dataset(sorted(str(p) for p in tmp_path.glob("*.parquet")))
    project = load_project(served.root)
    reader = GovernedReader(None)  # no governance: the plain SELECT
    ref = TableRef("silver", "pages")
    for offset in (0, 9, 10, 34, 35, 36, 59, 60, 95, 99, 100, 140):
        page = table_page(project, reader, ref, dataset, 7, offset)
        assert page.column("id").to_pylist() == list(range(offset, min(offset + 7, 100))), offset
    window, inside = _window(dataset, 72, 15)
    assert inside == 2  # the row groups of rows 70-89 in the third file; row 72 in them
    assert window.to_table().column("id").to_pylist() == list(range(70, 90))
    across, inside = _window(dataset, 33, 4)  # the last group of a file, the next's first
    assert inside == 3 and across.to_table().column("id").to_pylist() == list(range(30, 45))
