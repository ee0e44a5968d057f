"""Arrow datasets over local Delta tables read through Arrow's own filesystem."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from pyarrow.fs import PyFileSystem, SubTreeFileSystem

from afluente.storage.arrow_dataset import delta_dataset, local_root


def test_local_roots_are_decoded_and_object_stores_are_not_local() -> None:
    assert local_root("file:///tmp/my%20lake/silver/orders/") == "/tmp/my lake/silver/orders"
    assert local_root("/tmp/lake/silver/orders") == "/tmp/lake/silver/orders"
    assert local_root("s3://bucket/lake/silver/orders") is None


def test_a_partitioned_table_reads_the_same_rows_without_python_file_reads(
    tmp_path: Path,
) -> None:
    uri = tmp_path / "odd name" / "orders"
    data = pa.table({"state": ["São Paulo", "a/b:c", "100%", "a/b:c"], "n": [1, 2, 3, 4]})
    write_deltalake(str(uri), data, partition_by=["state"])
    table = DeltaTable(str(uri))

    dataset = delta_dataset(table)

    assert isinstance(dataset.filesystem, SubTreeFileSystem)  # not deltalake's PyFileSystem
    assert not isinstance(dataset.filesystem, PyFileSystem)
    rows = dataset.to_table().sort_by("n").to_pylist()
    assert rows == table.to_pyarrow_dataset().to_table().sort_by("n").to_pylist()
    assert [r["state"] for r in rows] == ["São Paulo", "a/b:c", "100%", "a/b:c"]


def test_an_older_version_reads_its_own_files(tmp_path: Path) -> None:
    uri = str(tmp_path / "orders")
    write_deltalake(uri, pa.table({"n": [1, 2]}))
    write_deltalake(uri, pa.table({"n": [3]}), mode="overwrite")
    table = DeltaTable(uri)
    table.load_as_version(0)
    assert delta_dataset(table).to_table().column("n").to_pylist() == [1, 2]
