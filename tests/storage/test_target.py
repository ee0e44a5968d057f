"""The table handle the incremental kinds write through: each operation one Delta version
carrying the caller's commit description, delta-rs errors translated, the table unchanged
on failure."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from afluente.errors import StorageError
from afluente.storage.commits import CommitDescription, app_id
from afluente.storage.target import ACTION, Target, scratch_target

COMMIT = CommitDescription("run-7", "silver.t", "fp", {"bronze.x": 3})


def rows(ids: list[int], values: list[str]) -> pa.Table:
    return pa.table({"id": pa.array(ids, pa.int64()), "v": values})


def content(target: Target) -> list[tuple[object, ...]]:
    table = DeltaTable(target.uri).to_pyarrow_table().sort_by("id")
    return list(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))


def diff(ids: list[int], values: list[str], actions: list[str]) -> pa.RecordBatchReader:
    table = rows(ids, values).append_column(ACTION, pa.array(actions))
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches())


@pytest.fixture
def target(tmp_path: Path) -> Target:
    target = Target(str(tmp_path / "t"), name="silver.t")
    table = rows([1, 2], ["a", "b"])
    target.create(pa.RecordBatchReader.from_batches(table.schema, table.to_batches()), COMMIT)
    return target


def test_a_commit_carries_the_description_and_the_run_transaction(target: Target) -> None:
    last = DeltaTable(target.uri).history(1)[0]
    assert (last["afluente.run_id"], last["afluente.model"], last["afluente.fingerprint"]) == (
        "run-7", "silver.t", "fp"
    )
    assert DeltaTable(target.uri).transaction_version(app_id("run-7")) == 1


def test_upsert_deletes_updates_and_inserts_in_one_version(target: Target) -> None:
    assert target.upsert(diff([1, 2, 3], ["A", "b", "c"], ["U", "D", "U"]), ["id"], ["id", "v"],
                         None) == 1
    assert content(target) == [(1, "A"), (3, "c")]
    assert target.upsert(diff([1], ["A"], ["U"]), ["id"], ["id", "v"], None) is None
    assert target.version() == 1


def test_overwrite_of_a_predicate_append_and_new_columns(target: Target) -> None:
    assert target.overwrite(rows([2], ["B"]), COMMIT, predicate="id = 2") == 1
    assert target.append(rows([5], ["e"]).append_column("w", pa.array([1])), None) == 2
    assert content(target) == [(1, "a", None), (2, "B", None), (5, "e", 1)]
    target.add_columns([pa.field("x", pa.string())])
    assert target.schema() is not None and target.schema().names == ["id", "v", "w", "x"]


def test_a_bookkeeping_commit_adds_no_row(target: Target, tmp_path: Path) -> None:
    assert target.record(COMMIT) == 1
    assert content(target) == [(1, "a"), (2, "b")]
    assert Target(str(tmp_path / "never")).record(COMMIT) is None


def test_a_failing_write_names_the_table_and_leaves_it_unchanged(target: Target) -> None:
    bad = pa.table({"id": ["not a number"], "v": ["x"]})
    with pytest.raises(StorageError, match=r"writing `silver\.t` failed") as caught:
        target.upsert(pa.RecordBatchReader.from_batches(
            bad.append_column(ACTION, pa.array(["U"])).schema,
            bad.append_column(ACTION, pa.array(["U"])).to_batches(),
        ), ["id"], ["id", "v"], COMMIT)
    assert caught.value.hint == "the table is unchanged; see the error above"
    assert target.version() == 0
    assert content(target) == [(1, "a"), (2, "b")]


def test_a_scratch_table_is_removed_afterwards() -> None:
    with scratch_target("silver.t") as scratch:
        scratch.append(rows([1], ["a"]), None)
        assert scratch.dataset() is not None and scratch.dataset().count_rows() == 1
        folder = Path(scratch.uri)
    assert not folder.exists()
