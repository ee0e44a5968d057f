"""The connectors read files through the engine's scanner they are given, never DuckDB
directly: what they hand over is a plain description of the files."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

import pytest

from afluente.config import load_project
from afluente.connectors import IngestContext, connector_for
from afluente.connectors.protocol import CsvDialect, CsvFile
from afluente.engines.duckdb_files import DuckDBFileScan, DuckDBFileScanner
from afluente.errors import ConnectorError
from afluente.streams import SourceQuery

from .conftest import FilesProject


class RecordingScanner(DuckDBFileScanner):
    """DuckDB's scanner, keeping what the connector asked it to read."""

    def __init__(self) -> None:
        self.asked: list[tuple[list[CsvFile], list[str], CsvDialect, dict[str, str]]] = []

    def open(
        self, translate: Callable[[Exception], BaseException], on_close: Callable[[], None]
    ) -> DuckDBFileScan:
        scanner = self

        class Recording(DuckDBFileScan):
            def delimited(
                self,
                files: Sequence[CsvFile],  # type: ignore[override]
                columns: Sequence[str],
                dialect: CsvDialect,  # type: ignore[override]
                quarantined: Mapping[str, str],
            ) -> SourceQuery:
                scanner.asked.append((list(files), list(columns), dialect, dict(quarantined)))
                return super().delimited(files, columns, dialect, quarantined)

        return Recording(translate, on_close)


def _context(scanner: DuckDBFileScanner | None) -> IngestContext:
    return IngestContext("run", datetime.now(UTC), scanner=scanner)


def test_the_connector_describes_csv_files_for_the_engine(files_project: FilesProject) -> None:
    files_project.source("""\
        path: landing/*.csv
        options: {delimiter: ";"}
    """)
    files_project.write("a.csv", "\n\nid;v\n1;x\n")
    files_project.write("b.csv", "id\n2\n")
    files_project.write("empty.csv", "")
    files_project.write("bad.csv", b"\xff\xfe;\x00\n1\n")
    scanner = RecordingScanner()
    connector = connector_for(load_project(files_project.root), "s")

    ingestion = connector.read(_context(scanner))

    assert ingestion is not None and ingestion.query is not None
    ingestion.query.close()
    ((files, columns, dialect, quarantined),) = scanner.asked
    landing = files_project.landing
    assert files == [
        CsvFile(str(landing / "a.csv"), "landing/a.csv", ("id", "v"), 2),
        CsvFile(str(landing / "b.csv"), "landing/b.csv", ("id",), 0),
    ]
    assert columns == ["id", "v"]
    assert dialect == CsvDialect(";", '"', '"', "utf-8", header=True)
    assert list(quarantined) == ["landing/bad.csv"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("path: landing/*.csv\n", "source `s`: no engine was given to read its files with"),
        ("type: seed\npath: seeds/s.csv\n", "source `s`: no engine was given to read its files"),
    ],
)
def test_a_connector_without_a_scanner_says_what_to_pass(
    files_project: FilesProject, source: str, expected: str
) -> None:
    if source.startswith("type: seed"):
        (files_project.root / "seeds").mkdir()
        (files_project.root / "seeds" / "s.csv").write_text("id\n1\n")
        text = "name: p\nsources:\n  s:\n    " + source.replace("\n", "\n    ")
        (files_project.root / "afluente.yml").write_text(text)
    else:
        files_project.source(source)
        files_project.write("a.csv", "id\n1\n")
    connector = connector_for(load_project(files_project.root), "s")

    with pytest.raises(ConnectorError) as failed:
        connector.read(_context(None))

    assert expected in failed.value.message
    assert "`IngestContext.scanner` is not set" in failed.value.message
    assert "DuckDBFileScanner" in str(failed.value.hint)


def test_connectors_import_no_engine() -> None:
    code = (
        "import sys, afluente.connectors, afluente.connectors.files.readers, "
        "afluente.connectors.seed; print('duckdb' in sys.modules)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == "False"

