"""Reading a local table's newest version from `_delta_log` gives delta-rs's answers.

Each table is compared with delta-rs loading the same version: the commit info its
`history` shows, the data files, the rows summed from the statistics. Tables with
checkpoints (before and at the newest version), removes and a vacuum, URL-encoded partition
paths and appends committed while the log is read; what the reader leaves to delta-rs
(damage, multi-part checkpoints) returns None.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from afluente.storage.file_stats import rows_from_stats
from afluente.storage.log_head import LogHead, read_head


def _rows(start: int, count: int) -> pa.Table:
    ids = list(range(start, start + count))
    return pa.table({"id": ids, "part": [f"a b/{i % 2}%" for i in ids]})


def _delta_rs(path: Path, version: int) -> tuple[object, ...]:
    table = DeltaTable(str(path), version=version)
    # `history` of a table loaded at an older version numbers its commits from the newest
    commit = next(c for c in DeltaTable(str(path)).history() if c["version"] == version)
    files = sorted(uri.removeprefix("file://") for uri in table.file_uris())
    return version, commit, files, rows_from_stats(table)


def _ours(head: LogHead | None) -> tuple[object, ...]:
    assert head is not None
    return head.version, head.commit, sorted(str(p) for p in head.files), head.rows


def test_appends_overwrites_and_partition_paths(tmp_path: Path) -> None:
    write_deltalake(str(tmp_path), _rows(0, 5), partition_by=["part"])
    write_deltalake(str(tmp_path), _rows(5, 3), mode="append", partition_by=["part"])
    write_deltalake(str(tmp_path), _rows(8, 4), mode="overwrite", partition_by=["part"])
    head = read_head(tmp_path)
    assert _ours(head) == _delta_rs(tmp_path, 2)
    assert head is not None and head.rows == 4 and all(p.exists() for p in head.files)


def test_checkpoints_before_and_at_the_newest_version(tmp_path: Path) -> None:
    write_deltalake(str(tmp_path), _rows(0, 3))
    for start in (3, 6, 9):
        write_deltalake(str(tmp_path), _rows(start, 3), mode="append")
    DeltaTable(str(tmp_path)).create_checkpoint()  # at v3, the newest
    assert _ours(read_head(tmp_path)) == _delta_rs(tmp_path, 3)
    write_deltalake(str(tmp_path), _rows(12, 2), mode="overwrite")
    write_deltalake(str(tmp_path), _rows(14, 2), mode="append")
    head = read_head(tmp_path)
    assert _ours(head) == _delta_rs(tmp_path, 5)
    assert head is not None and head.rows == 4


def test_after_a_vacuum(tmp_path: Path) -> None:
    write_deltalake(str(tmp_path), _rows(0, 3))
    write_deltalake(str(tmp_path), _rows(3, 3), mode="overwrite")
    DeltaTable(str(tmp_path)).vacuum(
        retention_hours=0, enforce_retention_duration=False, dry_run=False
    )
    head = read_head(tmp_path)
    assert _ours(head) == _delta_rs(tmp_path, DeltaTable(str(tmp_path)).version())
    assert head is not None and all(p.exists() for p in head.files)


def test_appends_committed_while_the_log_is_read(tmp_path: Path) -> None:
    write_deltalake(str(tmp_path), _rows(0, 1))
    heads: list[LogHead | None] = []
    done = threading.Event()

    def append() -> None:
        for start in range(1, 13):
            write_deltalake(str(tmp_path), _rows(start, 1), mode="append")
            if start == 6:
                DeltaTable(str(tmp_path)).create_checkpoint()
        done.set()

    writer = threading.Thread(target=append)
    writer.start()
    while not done.is_set():
        heads.append(read_head(tmp_path))
    writer.join()
    heads.append(read_head(tmp_path))
    assert heads[-1] is not None and heads[-1].version == 12
    # each read is one consistent version (or left to delta-rs)
    seen = {head.version: head for head in heads if head is not None}
    for version, head in seen.items():
        assert _ours(head) == _delta_rs(tmp_path, version)
        assert head.rows == version + 1


@pytest.mark.parametrize("damage", ["commit", "parts"])
def test_what_it_leaves_to_delta_rs(tmp_path: Path, damage: str) -> None:
    write_deltalake(str(tmp_path), _rows(0, 3))
    write_deltalake(str(tmp_path), _rows(3, 3), mode="append")
    log = tmp_path / "_delta_log"
    if damage == "commit":
        newest = log / f"{1:020d}.json"
        newest.write_text(newest.read_text()[:40])
    else:
        (log / "_last_checkpoint").write_text(json.dumps({"version": 1, "size": 2, "parts": 2}))
    assert read_head(tmp_path) is None
