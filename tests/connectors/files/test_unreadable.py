"""A file that cannot be read fails the ingestion naming the file; nothing is committed, the
table keeps its version, and the next run retries the file."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from .conftest import FilesProject, failure


def write_parquet(project: FilesProject, name: str, ids: list[int]) -> None:
    project.landing.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"id": ids}), project.landing / name)


def test_binary_file_declared_as_parquet(files_project: FilesProject) -> None:
    files_project.source("""\
        path: landing/*.parquet
        format: parquet
    """)
    write_parquet(files_project, "a.parquet", [1, 2])
    files_project.run()
    before = (files_project.version(), files_project.bronze())
    files_project.write("b.parquet", b"\x00\x01not parquet at all\xff" * 4)
    write_parquet(files_project, "c.parquet", [5])

    result = files_project.run()

    assert result.status == "failed"
    reason = failure(result)
    assert "cannot read parquet file `landing/b.parquet`" in reason
    assert "nothing was written" in reason
    assert (files_project.version(), files_project.bronze()) == before

    write_parquet(files_project, "b.parquet", [3, 4])  # fixed
    again = files_project.run()
    assert again.status == "success"
    assert files_project.version() == 1
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
    before = (files_project.version(), files_project.bronze())
    files_project.write("b.json", '{"id": 2}\n{"id": 3,, oops\n')

    result = files_project.run()

    assert result.status == "failed"
    assert f"cannot read {fmt} file `landing/b.json`" in failure(result)
    assert (files_project.version(), files_project.bronze()) == before

    files_project.write("b.json", '{"id": 2}\n{"id": 3}\n')
    assert files_project.run().status == "success"
    assert files_project.rows("id") == [(1,), (2,), (3,)]


def test_corrupt_avro_names_the_file(files_project: FilesProject) -> None:
    files_project.source("""\
        path: landing/*.avro
        format: avro
    """)
    files_project.write("x.avro", b"Obj\x01garbage")
    result = files_project.run()
    assert result.status == "failed"
    assert "cannot read avro file `landing/x.avro`" in failure(result)
    assert files_project.version() is None
