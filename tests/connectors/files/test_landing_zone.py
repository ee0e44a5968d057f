"""A landing zone as real exports fill it: mixed line endings, blank lines, empty files and
a file that cannot be read. Every good line lands, malformed lines are rescued with file and
line, an unreadable file is quarantined by name, and each file is still ingested once."""

from __future__ import annotations

from afluente.model import TableRef

from .conftest import FilesProject

REF = TableRef("bronze", "s")


def test_an_empty_file_alone_is_recorded_and_lands_nothing(files_project: FilesProject) -> None:
    files_project.source("""\
        path: landing/*.csv
    """)
    files_project.write("empty.csv", b"")

    result = files_project.run()

    assert result.status == "success"
    assert files_project.bronze().num_rows == 0
    (progress,) = files_project.warehouse.progress_history(REF)
    assert list(progress["files"]) == ["landing/empty.csv"]
    version = files_project.version()
    assert files_project.run().status == "success"
    assert files_project.version() == version  # seen: nothing new to write
