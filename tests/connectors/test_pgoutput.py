"""The `pgoutput` decoder on messages a real PostgreSQL 15 wrote (captured once with
`pg_logical_slot_peek_binary_changes`: an insert; one transaction updating a column to
NULL, changing the key, then deleting the row; a truncate), and the sortable sequence."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from afluente.connectors.postgres_cdc.pgoutput import Decoder, lsn_number, lsn_text
from afluente.connectors.postgres_cdc.rows import sequence_text, split_key_change

RELATION = "52000040257075626c6963006b006400020169640000000017ffffffff006e616d650000000019ffffffff"
MESSAGES = [
    "420000000004078668000304b55f62f7f5000002fa",
    RELATION,
    "49000040254e0002740000000131740000000161",
    "430000000000040786680000000004078698000304b55f62f7f5",
    "4200000000040787b0000304b55f639d94000002fb",
    "55000040254e00027400000001316e",
    "55000040254b00027400000001316e4e00027400000001326e",
    "44000040254b00027400000001326e",
    "430000000000040787b000000000040787e0000304b55f639d94",
    "420000000004079360000304b55f63a540000002fc",
    RELATION,
    "54000000010000004025",
    "4300000000000407936000000000040794d0000304b55f63a540",
]


def test_transactions_changes_and_positions() -> None:
    first, second, third = Decoder().transactions(bytes.fromhex(m) for m in MESSAGES)
    assert (first.xid, second.xid, third.xid) == (762, 763, 764)
    assert lsn_text(first.commit_lsn) == "0/4078668" and lsn_text(first.end_lsn) == "0/4078698"
    assert first.commit_time.year >= 2024 and first.commit_time.tzinfo is not None
    assert [c.relation.qualified for c in first.changes] == ["public.k"]
    assert [c.name for c in first.changes[0].relation.columns] == ["id", "name"]
    assert [c.key for c in first.changes[0].relation.columns] == [True, False]
    assert [(c.op, c.new, c.old, c.old_is_key) for c in first.changes] == [
        ("insert", ("1", "a"), None, False)]
    assert [(c.op, c.new, c.old, c.old_is_key) for c in second.changes] == [
        ("update", ("1", None), None, False),
        ("update", ("2", None), ("1", None), True),  # the key changed: the old key is sent
        ("delete", None, ("2", None), True),
    ]
    assert [(c.op, c.relation.qualified) for c in third.changes] == [("truncate", "public.k")]
    assert first.end_lsn <= second.commit_lsn < second.end_lsn <= third.commit_lsn
    same_key, new_key, _ = second.changes
    assert split_key_change(same_key) == [same_key]
    assert [(c.op, c.new, c.old) for c in split_key_change(new_key)] == [
        ("delete", None, ("1", None)), ("insert", ("2", None), ("1", None))]


@given(st.integers(0, 2**64 - 1))
def test_lsn_text_round_trips(lsn: int) -> None:
    assert lsn_number(lsn_text(lsn)) == lsn


@given(st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 10**10 - 1)),
       st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 10**10 - 1)))
def test_sequence_text_sorts_as_lsn_then_position(a: tuple[int, int], b: tuple[int, int]) -> None:
    assert (sequence_text(*a) < sequence_text(*b)) == (a < b)
