"""Snapshot SCD2: inserts, tracked changes, in-place changes and hard deletes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest
from tests.transform.helpers import plain, version

from afluente.transform import KindSpecError, SnapshotSpec, Target, snapshot_scd2

SPEC = SnapshotSpec(keys=("id",), track_columns=("city",))
DAY1, DAY2, DAY3 = datetime(2024, 1, 1), datetime(2024, 1, 2), datetime(2024, 1, 3)


def snap(ids: list[int], cities: list[str], logins: list[int]) -> pa.Table:
    return pa.table({"id": ids, "city": cities, "login": logins})


@pytest.fixture
def target(tmp_path: Path) -> Target:
    target = Target(str(tmp_path / "dim_customer"))
    snapshot_scd2(target, snap([1, 2, 3], ["a", "b", "c"], [0, 0, 0]), SPEC, DAY1)
    return target


def test_changes_and_hard_deletes_are_versioned(target: Target) -> None:
    result = snapshot_scd2(target, snap([1, 2, 4], ["a", "B", "d"], [5, 0, 0]), SPEC, DAY2)
    assert (result.inserted, result.deleted) == (1, 1)
    assert plain(target, "id, city, login, valid_from, valid_to, is_current") == {
        (1, "a", 5, DAY1, None, True),  # untracked column: updated in place
        (2, "b", 0, DAY1, DAY2, False),
        (2, "B", 0, DAY2, None, True),
        (3, "c", 0, DAY1, DAY2, False),  # hard delete closes the row
        (4, "d", 0, DAY2, None, True),
    }


def test_a_deleted_key_that_returns_opens_a_new_version(target: Target) -> None:
    snapshot_scd2(target, snap([1, 2], ["a", "b"], [0, 0]), SPEC, DAY2)
    snapshot_scd2(target, snap([1, 2, 3], ["a", "b", "c"], [0, 0, 0]), SPEC, DAY3)
    assert plain(target, "valid_from, valid_to, is_current FROM t WHERE id = 3 --") == {
        (DAY1, DAY2, False),
        (DAY3, None, True),
    }


def test_same_snapshot_again_is_a_no_op(target: Target) -> None:
    result = snapshot_scd2(target, snap([1, 2, 3], ["a", "b", "c"], [0, 0, 0]), SPEC, DAY1)
    assert result.version is None and version(target) == 0


def test_an_older_snapshot_is_rejected_and_writes_nothing(target: Target) -> None:
    snapshot_scd2(target, snap([1], ["a"], [0]), SPEC, DAY3)
    with pytest.raises(KindSpecError, match="is not after the dimension's latest version"):
        snapshot_scd2(target, snap([1], ["z"], [0]), SPEC, DAY2)
    assert version(target) == 1
