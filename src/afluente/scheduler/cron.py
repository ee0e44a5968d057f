"""Cron slots in a timezone, safe across daylight-saving changes.

A cron expression describes wall-clock times ("06:00 every day in São Paulo"), but the
scheduler compares instants. Wall times are walked with croniter in local time and turned
into UTC instants with these rules, so no slot is invented or dropped by a clock change:

* a wall time that does not exist (the clocks jump forward over it) fires at the end of the
  gap, the first instant that does exist; several such slots collapse into that one instant;
* a wall time that happens twice (the clocks fall back) fires once, at its first occurrence —
  unless the expression fires every hour, then it fires at both (an hourly job keeps one run
  per real hour).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

# No zone shifts its clocks by more than this; candidates are searched within it.
_MAX_SHIFT = timedelta(hours=3)
CRON_FIELDS = "minute hour day-of-month month day-of-week"


def _local(wall: datetime, zone: ZoneInfo, fold: int) -> datetime:
    return wall.replace(tzinfo=zone, fold=fold)


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    """False for a wall time inside a spring-forward gap (it does not round-trip)."""
    instant = _local(wall, zone, 0).astimezone(UTC)
    return instant.astimezone(zone).replace(tzinfo=None) == wall


def _ambiguous(wall: datetime, zone: ZoneInfo) -> bool:
    return _local(wall, zone, 0).utcoffset() != _local(wall, zone, 1).utcoffset()


def _gap_end(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant the clocks jumped forward over `wall` (the first one after the gap)."""
    # PEP 495: in a gap, fold=1 reads `wall` with the offset from before the change (an
    # instant before it), fold=0 with the offset after (an instant after it)
    low = _local(wall, zone, 1).astimezone(UTC)
    high = _local(wall, zone, 0).astimezone(UTC)
    if low > high:
        low, high = high, low
    after = high.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


@dataclass(frozen=True)
class CronSchedule:
    """A cron expression in a timezone; instants in and out are timezone-aware (UTC out)."""

    expression: str
    timezone: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _every_hour(self) -> bool:
        hours = croniter(self.expression).expanded[1]
        return hours == ["*"] or len(hours) == 24

    def _instants(self, wall: datetime) -> list[datetime]:
        zone = self.zone
        if not _exists(wall, zone):
            return [_gap_end(wall, zone)]
        first = _local(wall, zone, 0).astimezone(UTC)
        if _ambiguous(wall, zone) and self._every_hour():
            return [first, _local(wall, zone, 1).astimezone(UTC)]
        return [first]

    def next_after(self, instant: datetime) -> datetime:
        """The first slot strictly after `instant`."""
        instant = instant.astimezone(UTC)
        walls = croniter(self.expression, self._wall(instant - _MAX_SHIFT))
        best: datetime | None = None
        while True:
            wall = walls.get_next(datetime)
            candidates = self._instants(wall)
            later = [c for c in candidates if c > instant]
            if later and (best is None or min(later) < best):
                best = min(later)
            # wall times map to non-decreasing first instants: past `best`, none can beat it
            if best is not None and candidates[0] > best:
                return best

    def latest_at_or_before(self, instant: datetime) -> datetime:
        """The last slot at or before `instant`."""
        instant = instant.astimezone(UTC)
        walls = croniter(self.expression, self._wall(instant + _MAX_SHIFT))
        best: datetime | None = None
        while True:
            wall = walls.get_prev(datetime)
            candidates = self._instants(wall)
            earlier = [c for c in candidates if c <= instant]
            if earlier and (best is None or max(earlier) > best):
                best = max(earlier)
            if best is not None and candidates[0] + _MAX_SHIFT < best:
                return best

    def slots_between(
        self, after: datetime, until: datetime, limit: int | None = None
    ) -> Iterator[datetime]:
        """Slots in (`after`, `until`], oldest first; at most `limit` of them."""
        current, count = after, 0
        while limit is None or count < limit:
            current = self.next_after(current)
            if current > until:
                return
            yield current
            count += 1

    def _wall(self, instant: datetime) -> datetime:
        """`instant` as naive local wall time, the way croniter walks it."""
        return instant.astimezone(self.zone).replace(tzinfo=None)
