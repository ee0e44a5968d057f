"""The partitions a backfill range covers, at a model's grain (hour, day, month, year).

Pure date arithmetic, no engine. A backfill replaces whole partitions, so the range must
cover whole partitions of every model it selects: `--start 2026-01-15` for a monthly model
is an error (the January partition also holds the 1st to the 14th) whose hint gives the
aligned dates. `--end` is inclusive: the last day (or, for hourly models, the last hour; a
date alone means the whole day) is backfilled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from afluente.errors import ConfigError, Location

Grain = Literal["hour", "day", "month", "year"]


@dataclass(frozen=True)
class Bound:
    """One end of the range as typed: the moment, and whether a time of day was given."""

    text: str
    moment: datetime
    has_time: bool


@dataclass(frozen=True)
class DateRange:
    start: Bound
    end: Bound


@dataclass(frozen=True)
class Partition:
    """One partition: its value in `_partition_<grain>` and its bounds [start, end)."""

    value: date | datetime
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        return str(self.value)


def parse_range(start: str, end: str) -> DateRange:
    """`--start`/`--end` as given; errors name the option and the value."""
    first, last = _parse("--start", start), _parse("--end", end)
    if first.moment > last.moment:
        raise ConfigError(
            f"backfill range is empty: --start {start} is after --end {end}",
            hint=f"swap them: --start {end} --end {start}",
        )
    return DateRange(first, last)


def partitions(span: DateRange, grain: Grain, model: str, location: Location) -> list[Partition]:
    """Every partition of `grain` from the range's start to its end, both included."""
    _check_start(span.start, grain, model, location)
    last = _end_moment(span.end, grain, model, location)
    found: list[Partition] = []
    moment = span.start.moment
    while moment <= last:
        following = next_start(moment, grain)
        value = moment if grain == "hour" else moment.date()
        found.append(Partition(value, moment, following))
        moment = following
    return found


def truncate(moment: datetime, grain: Grain) -> datetime:
    if grain == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if grain == "day":
        return day
    if grain == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def next_start(moment: datetime, grain: Grain) -> datetime:
    """The start of the partition after the one starting at `moment`."""
    if grain == "hour":
        return moment + timedelta(hours=1)
    if grain == "day":
        return moment + timedelta(days=1)
    if grain == "month":
        year, month = divmod(moment.month, 12)
        return moment.replace(year=moment.year + year, month=month + 1)
    return moment.replace(year=moment.year + 1)


def _parse(option: str, text: str) -> Bound:
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"{option} {text!r} is not a date",
            hint=f"write {option} 2026-01-31 (or, for hourly models, 2026-01-31T05:00)",
        ) from None
    if moment.tzinfo is not None:
        raise ConfigError(
            f"{option} {text!r} has a time zone; partitions are in UTC",
            hint=f"write the UTC date/time without an offset, e.g. {option} {moment:%Y-%m-%d}",
        )
    return Bound(value, moment, has_time=len(value) > 10)


def _check_start(bound: Bound, grain: Grain, model: str, location: Location) -> None:
    _check_time(bound, "--start", grain, model, location)
    first = truncate(bound.moment, grain)
    if first != bound.moment:
        following = next_start(first, grain)
        raise _misaligned(
            f"--start {bound.text} is inside the partition {_show(first, grain)}", grain,
            model, location,
            f"use --start {_show_bound(first, grain)} (or --start {_show_bound(following, grain)})",
        )


def _end_moment(bound: Bound, grain: Grain, model: str, location: Location) -> datetime:
    """The start of the last partition the (inclusive) end covers."""
    _check_time(bound, "--end", grain, model, location)
    if grain == "hour":
        if not bound.has_time:
            return bound.moment.replace(hour=23)
        if truncate(bound.moment, grain) != bound.moment:
            raise _misaligned(
                f"--end {bound.text} is not a whole hour", grain, model, location,
                f"use --end {truncate(bound.moment, grain):%Y-%m-%dT%H:00} (inclusive)",
            )
        return bound.moment
    first = truncate(bound.moment, grain)
    last_day = next_start(first, grain) - timedelta(days=1)
    if bound.moment != last_day:
        earlier = first - timedelta(days=1)
        raise _misaligned(
            f"--end {bound.text} is inside the partition {_show(first, grain)}", grain, model,
            location, f"use --end {last_day:%Y-%m-%d} (or --end {earlier:%Y-%m-%d}); the end "
            "is inclusive",
        )
    return first


def _check_time(bound: Bound, option: str, grain: Grain, model: str, location: Location) -> None:
    if grain != "hour" and bound.has_time:
        raise _misaligned(
            f"{option} {bound.text} has a time of day", grain, model, location,
            f"give a date: {option} {bound.moment:%Y-%m-%d}",
        )


def _misaligned(
    what: str, grain: Grain, model: str, location: Location, hint: str
) -> ConfigError:
    return ConfigError(
        f"{what}, but `{model}` is partitioned by {grain} (partition_by: {grain}) and a "
        f"backfill replaces whole partitions",
        location=location, table=model, hint=hint,
    )


def _show(moment: datetime, grain: Grain) -> str:
    formats = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
    return moment.strftime(formats[grain])


def _show_bound(moment: datetime, grain: Grain) -> str:
    return moment.strftime("%Y-%m-%dT%H:00" if grain == "hour" else "%Y-%m-%d")
