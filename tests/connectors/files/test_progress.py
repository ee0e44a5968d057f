"""The connector reports cumulative files and bytes as the files are read."""

from __future__ import annotations

from datetime import UTC, datetime

from afluente.config import load_project
from afluente.connectors import IngestContext, IngestStats, connector_for
from afluente.connectors.files import FilesConnector
from afluente.connectors.files.readers import FileReader
from afluente.engines.duckdb_files import DuckDBFileScanner

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
    assert isinstance(connector, FilesConnector)
    reader = FileReader(
        "s", connector.config, files_project.root, connector.location, DuckDBFileScanner()
    )

    stream = reader.read(connector.files(), reports.append)

    assert reports == []  # nothing read yet: the stream is lazy
    rows = stream.reader.read_all()
    assert sorted(rows.column("id").to_pylist()) == ["1", "2", "3"]
    assert reports[0].files in (1, 2) and reports[0].bytes < sum(sizes)
    assert reports[-1] == IngestStats(files=3, bytes=sum(sizes))  # 3.csv had no rows
    assert [r.files for r in reports] == sorted(r.files for r in reports)


def test_duckdb_read_files_are_reported_when_the_query_is_handed_over(
    files_project: FilesProject,
) -> None:
    files_project.source("""\
        path: landing/*.csv
    """)
    sizes = [
        files_project.write(name, text).stat().st_size
        for name, text in [("1.csv", "id\n1\n"), ("2.csv", "id\n2\n3\n")]
    ]
    reports: list[IngestStats] = []
    connector = connector_for(load_project(files_project.root), "s")
    context = IngestContext(
        "run", datetime.now(UTC), report=reports.append, scanner=DuckDBFileScanner()
    )

    ingestion = connector.read(context)

    assert ingestion is not None and ingestion.query is not None
    assert reports == [IngestStats(files=2, bytes=sum(sizes))]
    ingestion.query.close()
