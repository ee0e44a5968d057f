"""Apply changes: the documented semantics on small, readable examples."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.transform.helpers import table_of, version, visible

from afluente.transform import ChangeFeedSpec, KindSpecError, NullKeyError, Target, apply_changes


def spec(scd_type: int, **extra: object) -> ChangeFeedSpec:
    return ChangeFeedSpec(
        keys=("id",),
        sequence_by="seq",
        apply_as_deletes="op = 'D'",
        except_columns=("op",),
        scd_type=scd_type,
        **extra,  # type: ignore[arg-type]
    )


def ev(id: int, seq: int, v: str | None, op: str = "U", w: int = 0) -> dict[str, object]:
    return {"id": id, "seq": seq, "op": op, "v": v, "w": w}


@pytest.fixture
def target(tmp_path: Path) -> Target:
    return Target(str(tmp_path / "customers"), name="silver.customers")


def test_scd1_late_event_does_not_overwrite_newer_state(target: Target) -> None:
    apply_changes(target, table_of([ev(1, 5, "new")]), spec(1))
    apply_changes(target, table_of([ev(1, 3, "old")]), spec(1))
    assert visible(target, "id, v") == {(1, "new")}


def test_scd1_delete_is_not_undone_by_an_older_late_event(target: Target) -> None:
    apply_changes(target, table_of([ev(1, 1, "a"), ev(1, 4, None, "D")]), spec(1))
    assert visible(target, "id, v") == set()
    apply_changes(target, table_of([ev(1, 2, "b")]), spec(1))
    assert visible(target, "id, v") == set()
    apply_changes(target, table_of([ev(1, 6, "c")]), spec(1))
    assert visible(target, "id, v") == {(1, "c")}


def test_same_sequence_twice_a_delete_wins(target: Target) -> None:
    apply_changes(target, table_of([ev(1, 2, "a")]), spec(1))
    apply_changes(target, table_of([ev(1, 2, None, "D")]), spec(1))
    assert visible(target, "id, v") == set()


def test_scd2_late_event_is_inserted_into_history(target: Target) -> None:
    apply_changes(target, table_of([ev(1, 1, "a"), ev(1, 5, "c")]), spec(2))
    apply_changes(target, table_of([ev(1, 3, "b")]), spec(2))
    columns = "v, valid_from, valid_to, is_current"
    assert visible(target, columns) == {
        ("a", 1, 3, False),
        ("b", 3, 5, False),
        ("c", 5, None, True),
    }


def test_scd2_delete_closes_the_current_row(target: Target) -> None:
    apply_changes(target, table_of([ev(1, 1, "a"), ev(1, 4, None, "D")]), spec(2))
    assert visible(target, "v, valid_from, valid_to, is_current") == {("a", 1, 4, False)}


def test_scd2_tracks_only_chosen_columns(target: Target) -> None:
    feed = [ev(1, 1, "a", w=1), ev(1, 2, "a", w=2), ev(1, 3, "b", w=3)]
    apply_changes(target, table_of(feed), spec(2, track_history_columns=("v",)))
    columns = "v, w, valid_from, valid_to"
    assert visible(target, columns) == {("a", 2, 1, 3), ("b", 3, 3, None)}


def test_reapplying_a_batch_writes_no_version(target: Target) -> None:
    batch = table_of([ev(1, 1, "a"), ev(2, 1, "b")])
    apply_changes(target, batch, spec(2))
    assert apply_changes(target, batch, spec(2)).version is None
    assert version(target) == 0


def test_null_sequence_is_an_error_and_writes_nothing(target: Target) -> None:
    apply_changes(target, table_of([ev(1, 1, "a")]), spec(1))
    with pytest.raises(NullKeyError, match="NULL sequence_by column seq"):
        apply_changes(target, table_of([{**ev(2, 1, "b"), "seq": None}]), spec(1))
    assert version(target) == 0


def test_reserved_column_names_are_rejected(target: Target) -> None:
    feed = table_of([ev(1, 1, "a")]).rename_columns(["id", "seq", "op", "valid_from", "w"])
    with pytest.raises(KindSpecError, match="valid_from"):
        apply_changes(target, feed, spec(2))
