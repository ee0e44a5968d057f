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
from afluente.governance.scan import _from_row, table_page
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
    skipped, inside = _from_row(dataset, 72)
    assert inside == 2  # the row group of rows 70-79 in the third file, and row 72 in it
    assert skipped.head(1).column("id").to_pylist() == [70]
