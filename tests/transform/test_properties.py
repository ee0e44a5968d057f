"""Property tests: any order, duplication and batching of change events gives the same
table as the pure-Python reference; re-applying a batch changes nothing."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.transform import reference
from tests.transform.helpers import plain, table_of, version, visible

from afluente.transform import ChangeFeedSpec, MergeSpec, Target, apply_changes, merge

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def event_batches(draw: st.DrawFn) -> tuple[list[reference.Event], list[list[reference.Event]]]:
    """Distinct events over 3 keys, then duplicated, shuffled and split into 1-3 batches."""
    slots = draw(
        st.lists(
            st.tuples(st.integers(1, 3), st.integers(1, 12)), min_size=1, max_size=14, unique=True
        )
    )
    events = [
        reference.Event(
            key,
            seq,
            draw(st.sampled_from("UUD")),
            draw(st.sampled_from(["a", "b", None])),
            draw(st.integers(0, 1)),
        )
        for key, seq in slots
    ]
    copies = draw(st.lists(st.sampled_from(events), max_size=4))
    shuffled = draw(st.permutations(events + copies))
    cuts = sorted(draw(st.lists(st.integers(0, len(shuffled)), max_size=2)))
    bounds = [0, *cuts, len(shuffled)]
    batches = [shuffled[a:b] for a, b in itertools.pairwise(bounds)]
    return events, [b for b in batches if b]


def _target() -> Target:
    return Target(str(Path(tempfile.mkdtemp(prefix="afl-prop-")) / "t"))


def _feed(scd_type: int, track_only_v: bool = False) -> ChangeFeedSpec:
    return ChangeFeedSpec(
        keys=("id",),
        sequence_by="seq",
        apply_as_deletes="op = 'D'",
        except_columns=("op",),
        scd_type=scd_type,  # type: ignore[arg-type]
        track_history_columns=("v",) if track_only_v else None,
    )


def _apply_all(target: Target, spec: ChangeFeedSpec, batches: list[list[reference.Event]]) -> None:
    for batch in batches:
        apply_changes(target, table_of([e.row() for e in batch]), spec)


@SETTINGS
@given(event_batches())
def test_scd1_in_any_batches_equals_reference(case: tuple) -> None:
    events, batches = case
    target = _target()
    _apply_all(target, _feed(1), batches)
    assert visible(target, "id, seq, v, w") == reference.scd1(events)
    before = version(target)
    apply_changes(target, table_of([e.row() for e in batches[-1]]), _feed(1))
    assert version(target) == before  # re-applying a batch writes nothing


@SETTINGS
@given(event_batches(), st.booleans())
def test_scd2_in_any_batches_equals_reference(case: tuple, track_only_v: bool) -> None:
    events, batches = case
    target = _target()
    spec = _feed(2, track_only_v)
    _apply_all(target, spec, batches)
    columns = "id, seq, v, w, valid_from, valid_to, is_current"
    assert visible(target, columns) == reference.scd2(events, track_only_v)
    before = version(target)
    apply_changes(target, table_of([e.row() for e in batches[0]]), spec)
    assert version(target) == before


@SETTINGS
@given(event_batches())
def test_scd2_batched_equals_all_at_once(case: tuple) -> None:
    _, batches = case
    batched, at_once = _target(), _target()
    _apply_all(batched, _feed(2), batches)
    _apply_all(at_once, _feed(2), [[e for b in batches for e in b]])
    assert plain(batched, "*") == plain(at_once, "*")  # bookkeeping rows included


@SETTINGS
@given(event_batches())
def test_merge_with_dedupe_equals_reference_upsert(case: tuple) -> None:
    _, batches = case
    target = _target()
    spec = MergeSpec(keys=("id",), delete_when="op = 'D'", dedupe_by="seq", except_columns=("op",))
    for batch in batches:
        merge(target, table_of([e.row() for e in batch]), spec)
    assert plain(target, "id, seq, v, w") == reference.upsert(batches)
    before = version(target)
    merge(target, table_of([e.row() for e in batches[-1]]), spec)
    assert version(target) == before
