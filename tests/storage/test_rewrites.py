"""Which files hold the rows appended between two versions when maintenance rewrote files
in between (`storage.rewrites`): the appended files when they are still apart, None when
rows changed otherwise or an appended file was rewritten."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from afluente.storage.arrow_dataset import delta_dataset
from afluente.storage.maintenance import MaintenanceWork, maintain_table
from afluente.storage.rewrites import appended_across_rewrites

NO_VACUUM = MaintenanceWork(vacuum_after=None, checkpoint=False)


def append(path: Path, first: int, count: int = 3) -> None:
    write_deltalake(str(path), pa.table({"id": list(range(first, first + count))}),
                    mode="append")


def files(path: Path) -> list[str]:
    return list(delta_dataset(DeltaTable(str(path))).files)


def test_appends_after_a_compaction_are_still_apart(tmp_path: Path) -> None:
    for first in (0, 10, 20):
        append(tmp_path, first)  # v0..v2
    maintain_table(str(tmp_path), NO_VACUUM, "t")  # properties v3, compaction v4
    append(tmp_path, 30)  # v5
    version = DeltaTable(str(tmp_path)).version()

    found = appended_across_rewrites(tmp_path, 2, version, files(tmp_path))

    assert found is not None and len(found) == 1
    rows = delta_dataset(DeltaTable(str(tmp_path))).to_table().column("id").to_pylist()
    assert len(rows) == 12
    assert appended_across_rewrites(tmp_path, 2, 4, files(tmp_path)) == ()  # only maintenance


def test_an_appended_file_compacted_with_older_rows_cannot_be_told_apart(
        tmp_path: Path) -> None:
    for first in (0, 10):
        append(tmp_path, first)  # v0, v1
    append(tmp_path, 20)  # v2: appended after v1 ...
    maintain_table(str(tmp_path), NO_VACUUM, "t")  # ... then compacted with the older rows
    version = DeltaTable(str(tmp_path)).version()

    assert appended_across_rewrites(tmp_path, 1, version, files(tmp_path)) is None


def test_a_delete_in_between_is_a_change_of_rows(tmp_path: Path) -> None:
    for first in (0, 10):
        append(tmp_path, first)
    DeltaTable(str(tmp_path)).delete("id = 1")  # v2
    append(tmp_path, 20)  # v3

    assert appended_across_rewrites(tmp_path, 1, 3, files(tmp_path)) is None


def test_a_cleaned_log_cannot_tell(tmp_path: Path) -> None:
    append(tmp_path, 0)
    append(tmp_path, 10)
    (tmp_path / "_delta_log" / f"{1:020d}.json").unlink()

    assert appended_across_rewrites(tmp_path, 0, 1, []) is None
