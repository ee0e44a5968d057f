"""A file that cannot be read at all is quarantined as a file: one bronze row naming it and
the reason, while the batch's other files land; the rows already committed stay, and a fixed
copy of the file is read again."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from afluente.model import TableRef

from .conftest import FilesProject

REF = TableRef("bronze", "s")


def write_parquet(project: FilesProject, name: str, ids: list[int]) -> None:
    project.landing.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"id": ids}), project.landing / name)


def quarantined(project: FilesProject) -> dict[str, str]:
    """The quarantined files of the newest commit and their reasons, checked against the
    bronze rows that name them."""
    rows = project.bronze().to_pylist()
    found = {
        r["_source"]: json.loads(r["_rescued_data"])["_error"]
        for r in rows
        if r["_rescued_data"] and "_line" not in json.loads(r["_rescued_data"])
    }
    recorded = project.warehouse.progress_history(REF)[0].get("quarantined", {})
    assert recorded == {name: reason for name, reason in found.items() if name in recorded}
    return found


def test_binary_file_declared_as_parquet(files_project: FilesProject) -> None:
    files_project.source("""\
        path: landing/*.parquet
        format: parquet
    """)
    write_parquet(files_project, "a.parquet", [1, 2])
    files_project.run()
    before = files_project.bronze().to_pylist()
    files_project.write("b.parquet", b"\x00\x01not parquet at all\xff" * 4)
    write_parquet(files_project, "c.parquet", [5])

    result = files_project.run()

    assert result.status == "success"
    after = files_project.bronze().to_pylist()
    assert all(row in after for row in before)  # the previous version's rows stay
    assert files_project.rows("id", "_source") == [
        (None, "landing/b.parquet"), (1, "landing/a.parquet"), (2, "landing/a.parquet"),
        (5, "landing/c.parquet"),
    ]
    reason = quarantined(files_project)["landing/b.parquet"]
    assert reason.startswith("Parquet magic bytes not found in footer")

    write_parquet(files_project, "b.parquet", [3, 4])  # fixed: read again, replacing its row
    assert files_project.run().status == "success"
    assert files_project.rows("id", "_source") == [
        (1, "landing/a.parquet"), (2, "landing/a.parquet"),
        (3, "landing/b.parquet"), (4, "landing/b.parquet"), (5, "landing/c.parquet"),
    ]


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_invalid_json(files_project: FilesProject, fmt: str) -> None:
    files_project.source(f"""\
        path: landing/*.json
        format: {fmt}
    """)
    files_project.write("a.json", '{"id": 1}\n')
    files_project.run()
    version = files_project.version()
    files_project.write("b.json", '{"id": 2}\n{"id": 3,, oops\n')
    files_project.write("c.json", '{"id": 4}\n')

    assert files_project.run().status == "success"

    assert files_project.version() == (version or 0) + 1
    assert files_project.rows("id", "_source") == [
        (None, "landing/b.json"), (1, "landing/a.json"), (4, "landing/c.json"),
    ]
    reason = quarantined(files_project)["landing/b.json"]
    assert 'Malformed JSON in file "landing/b.json"' in reason
    assert files_project.run().status == "success"
    assert files_project.version() == (version or 0) + 1  # seen: not read again


def test_corrupt_avro_alone_is_quarantined(files_project: FilesProject) -> None:
    files_project.source("""\
        path: landing/*.avro
        format: avro
    """)
    files_project.write("x.avro", b"Obj\x01garbage")
    assert files_project.run().status == "success"
    assert files_project.rows("_source") == [("landing/x.avro",)]
    assert quarantined(files_project)["landing/x.avro"]
