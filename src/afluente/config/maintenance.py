"""The `maintenance:` block of a model (its config, a folder's `_defaults.yml`, the models
folder's `_defaults.yml` for the whole project) or of a source: how `afluente maintain` and
the scheduler keep its Delta table fast to read (docs/maintenance.md).

Durations are written `7 days`, `36 hours`, `1w` or `168h`. `vacuum` may not be below
`time_travel`: a reader travelling back that far would find its files deleted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from afluente.config.observability import parse_duration
from afluente.config.sizes import ByteSize

#: Delta's own default for `delta.deletedFileRetentionDuration`.
DEFAULT_TIME_TRAVEL = timedelta(days=7)

_WORDS = {"second": "s", "seconds": "s", "minute": "m", "minutes": "m", "hour": "h",
          "hours": "h", "day": "d", "days": "d", "week": "w", "weeks": "w"}


def parse_span(value: Any) -> timedelta:
    """`7 days`, `36 hours`, `2 weeks`, `1w`, `168h` (or seconds) as a timedelta."""
    if isinstance(value, str):
        parts = value.strip().lower().split()
        if len(parts) == 2 and parts[1] in _WORDS:
            value = parts[0] + _WORDS[parts[1]]
    try:
        return parse_duration(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a duration: write it like `7 days`, `36 hours` "
                         "or `1w`") from None


def describe_span(span: timedelta) -> str:
    """A duration as its largest whole unit (`7 days`, `36 hours`, `90 minutes`)."""
    seconds = int(span.total_seconds())
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


class MaintenanceSpec(BaseModel):
    """What maintenance a table gets, and when the scheduler runs it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # rewrite small files into files of about `target_file_size` (delta-rs default 100 MiB)
    compact: bool = True
    target_file_size: ByteSize | None = None
    # cluster rows by these columns (Z-order): filters on them skip files; rewrites the table
    z_order: tuple[str, ...] = ()
    # versions readable by time travel this far back; the floor of every vacuum
    time_travel: timedelta = DEFAULT_TIME_TRAVEL
    # delete data files removed longer ago than this (None: `time_travel`); false: never
    vacuum: timedelta | bool | None = None
    # write a checkpoint and drop log files older than the log retention
    checkpoint: bool = True
    # the scheduler maintains the table after this many commits since it last did ...
    every_commits: int | None = Field(default=None, ge=1)
    # ... and/or when this cron expression is due (UTC)
    cron: str | None = None

    @field_validator("z_order", mode="before")
    @classmethod
    def _columns(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        from croniter import croniter

        if value is not None and not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression (minute hour day-of-month "
                             "month day-of-week), like '0 3 * * *'")
        return value

    @field_validator("time_travel", mode="before")
    @classmethod
    def _time_travel(cls, value: Any) -> Any:
        return parse_span(value)

    @field_validator("vacuum", mode="before")
    @classmethod
    def _vacuum(cls, value: Any) -> Any:
        return value if value is None or isinstance(value, bool) else parse_span(value)

    @model_validator(mode="after")
    def _vacuum_keeps_time_travel(self) -> MaintenanceSpec:
        if self.vacuum is True:
            raise ValueError("write `vacuum:` as a duration (at least `time_travel`), leave it "
                             "out to vacuum at `time_travel`, or `false` to never vacuum")
        if isinstance(self.vacuum, timedelta) and self.vacuum < self.time_travel:
            raise ValueError(
                f"vacuum: {describe_span(self.vacuum)} is below time_travel: "
                f"{describe_span(self.time_travel)}: a reader travelling back "
                f"{describe_span(self.time_travel)} would find its files deleted; raise "
                "`vacuum:` or lower `time_travel:`")
        return self

    @property
    def vacuum_after(self) -> timedelta | None:
        """How long removed files are kept before a vacuum deletes them (None: no vacuum)."""
        if self.vacuum is False:
            return None
        return self.vacuum if isinstance(self.vacuum, timedelta) else self.time_travel


__all__ = ["DEFAULT_TIME_TRAVEL", "MaintenanceSpec", "describe_span", "parse_span"]
