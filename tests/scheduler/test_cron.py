"""Cron slots at fixed instants, across daylight-saving changes (Europe/Berlin, and São
Paulo's history: it kept DST until 2019)."""

from __future__ import annotations

from datetime import UTC, datetime

from afluente.scheduler import CronSchedule


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def slots(cron: CronSchedule, after: datetime, until: datetime) -> list[str]:
    return [f"{s:%Y-%m-%d %H:%M}" for s in cron.slots_between(after, until)]


def test_every_15_minutes_in_utc() -> None:
    cron = CronSchedule("*/15 * * * *")
    assert slots(cron, utc(2026, 5, 1, 10, 0), utc(2026, 5, 1, 10, 50)) == [
        "2026-05-01 10:15", "2026-05-01 10:30", "2026-05-01 10:45",
    ]
    assert cron.next_after(utc(2026, 5, 1, 10, 45)) == utc(2026, 5, 1, 11, 0)
    assert cron.latest_at_or_before(utc(2026, 5, 1, 10, 45)) == utc(2026, 5, 1, 10, 45)


def test_daily_at_six_in_sao_paulo() -> None:
    cron = CronSchedule("0 6 * * *", "America/Sao_Paulo")
    # São Paulo is UTC-3 since 2019: 06:00 there is 09:00 UTC
    assert cron.next_after(utc(2026, 1, 1, 12, 0)) == utc(2026, 1, 2, 9, 0)
    assert cron.latest_at_or_before(utc(2026, 1, 1, 8, 59)) == utc(2025, 12, 31, 9, 0)


def test_berlin_spring_forward_keeps_every_real_half_hour_once() -> None:
    # 2024-03-31 02:00 CET (01:00 UTC) became 03:00 CEST: 02:00 and 02:30 never happened;
    # they fire at the end of the gap, together with 03:00 (one run, not three)
    cron = CronSchedule("*/30 * * * *", "Europe/Berlin")
    assert slots(cron, utc(2024, 3, 31, 0, 0), utc(2024, 3, 31, 2, 0)) == [
        "2024-03-31 00:30", "2024-03-31 01:00", "2024-03-31 01:30", "2024-03-31 02:00",
    ]


def test_berlin_fall_back_hourly_runs_both_repeated_hours() -> None:
    # 2024-10-27 03:00 CEST (01:00 UTC) became 02:00 CET: 02:xx happens twice
    cron = CronSchedule("*/30 * * * *", "Europe/Berlin")
    assert slots(cron, utc(2024, 10, 26, 23, 0), utc(2024, 10, 27, 2, 0)) == [
        "2024-10-26 23:30", "2024-10-27 00:00", "2024-10-27 00:30",
        "2024-10-27 01:00", "2024-10-27 01:30", "2024-10-27 02:00",
    ]


def test_berlin_daily_job_in_a_changing_hour_runs_once_each_day() -> None:
    cron = CronSchedule("30 2 * * *", "Europe/Berlin")
    # spring: 02:30 does not exist on 31 March; it runs at 03:00 CEST (01:00 UTC)
    assert slots(cron, utc(2024, 3, 30, 0, 0), utc(2024, 4, 1, 12, 0)) == [
        "2024-03-30 01:30", "2024-03-31 01:00", "2024-04-01 00:30",
    ]
    # autumn: 02:30 happens twice on 27 October; it runs at the first (CEST, 00:30 UTC)
    assert slots(cron, utc(2024, 10, 26, 0, 0), utc(2024, 10, 28, 12, 0)) == [
        "2024-10-26 00:30", "2024-10-27 00:30", "2024-10-28 01:30",
    ]


def test_sao_paulo_midnight_that_did_not_exist() -> None:
    # 2018-11-04 00:00 (-03) jumped to 01:00 (-02); 2019-02-16 24:00 (-02) fell back to 23:00
    cron = CronSchedule("0 0 * * *", "America/Sao_Paulo")
    assert slots(cron, utc(2018, 11, 2, 12, 0), utc(2018, 11, 5, 12, 0)) == [
        "2018-11-03 03:00", "2018-11-04 03:00", "2018-11-05 02:00",
    ]
    assert slots(cron, utc(2019, 2, 15, 12, 0), utc(2019, 2, 18, 12, 0)) == [
        "2019-02-16 02:00", "2019-02-17 03:00", "2019-02-18 03:00",
    ]


def test_slots_between_honours_its_limit() -> None:
    cron = CronSchedule("* * * * *")
    assert len(list(cron.slots_between(utc(2026, 1, 1), utc(2026, 1, 2), limit=7))) == 7
