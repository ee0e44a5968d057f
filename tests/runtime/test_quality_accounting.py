"""The accounting totals of a checked table, build after build (pure arithmetic)."""

from __future__ import annotations

from afluente.runtime.quality_accounting import Holding, account
from afluente.runtime.quality_step import QualityTally

FIRST = {"read": 10, "dropped": 1, "duplicates": 1, "table_rows": 6, "quarantine_rows": 2}


def test_a_full_read_starts_the_totals_from_its_own_tally() -> None:
    tally = QualityTally(rows=10, quarantined=2, dropped=1, duplicates=1, warnings=0)
    stale = {"read": 99, "dropped": 9, "duplicates": 9}
    assert account(stale, tally, "all", Holding(50, 7), Holding(6, 2)) == FIRST


def test_a_batch_of_new_rows_adds_what_it_did_not_add_to_the_table_as_duplicates() -> None:
    # 4 rows: 1 dropped; 1 new key, 1 update of a stored key, 1 still-bad record replacing
    # its earlier reject
    tally = QualityTally(rows=4, quarantined=1, dropped=1, duplicates=0, warnings=0)
    assert account(FIRST, tally, "new", Holding(6, 2), Holding(7, 2)) == {
        "read": 14, "dropped": 2, "duplicates": 3, "table_rows": 7, "quarantine_rows": 2}


def test_totals_are_unknown_after_partitions_or_without_earlier_totals() -> None:
    tally = QualityTally(rows=4, quarantined=0, dropped=0, duplicates=0, warnings=0)
    unknown = {"read": None, "dropped": None, "duplicates": None, "table_rows": 9,
               "quarantine_rows": 2}
    assert account(FIRST, tally, "partitions", Holding(6, 2), Holding(9, 2)) == unknown
    assert account(None, tally, "new", Holding(6, 2), Holding(9, 2)) == unknown
    assert account(unknown, tally, "new", Holding(9, 2), Holding(9, 2)) == unknown
