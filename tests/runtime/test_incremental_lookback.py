"""A time_range model's lookback: the partitions before the newest one, in calendar steps."""

from __future__ import annotations

from datetime import date, datetime

from afluente.runtime.incremental_write import with_lookback


def test_days_before_the_newest_partition_are_added_once() -> None:
    got = with_lookback([date(2026, 3, 1), date(2026, 2, 27)], "day", 2)

    assert got == [date(2026, 2, 27), date(2026, 2, 28), date(2026, 3, 1)]


def test_hours_months_and_years_step_back_across_their_boundaries() -> None:
    assert with_lookback([datetime(2026, 1, 1, 0)], "hour", 1) == [
        datetime(2025, 12, 31, 23), datetime(2026, 1, 1, 0)]
    assert with_lookback([date(2026, 2, 1)], "month", 2) == [
        date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    assert with_lookback([date(2026, 1, 1)], "year", 1) == [date(2025, 1, 1), date(2026, 1, 1)]


def test_no_lookback_keeps_the_partitions() -> None:
    assert with_lookback([date(2026, 3, 1)], "day", 0) == [date(2026, 3, 1)]
