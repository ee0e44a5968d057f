"""The connector reports cumulative files and bytes as the files are read."""

from __future__ import annotations

from datetime import UTC, datetime

from afluente.config import load_project
from afluente.connectors import IngestContext, IngestStats, connector_for

from .conftest import FilesProject


def test_files_and_bytes_reported_cumulatively(files_project: FilesProject) -> None:
    files_project.source("""\
        path: landing/*.csv
    """)
    sizes = [
        files_project.write(name, text).stat().st_size
        for name, text in [("1.csv", "id\n1\n"), ("2.csv", "id\n2\n3\n"), ("3.csv", "id\n")]
    ]
    reports: list[IngestStats] = []
    connector = connector_for(load_project(files_project.root), "s")
    context = IngestContext("run", datetime.now(UTC), report=reports.append)

    ingestion = connector.read(context)

    assert ingestion is not None
    assert reports == []  # nothing read yet: the stream is lazy
    rows = ingestion.stream.reader.read_all()
    assert rows.column("id").to_pylist() == ["1", "2", "3"]
    assert reports[0] == IngestStats(files=1, bytes=sizes[0])
    assert reports[-1] == IngestStats(files=3, bytes=sum(sizes))  # 3.csv had no rows
    assert [r.files for r in reports] == sorted(r.files for r in reports)
