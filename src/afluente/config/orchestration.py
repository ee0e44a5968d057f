"""The orchestration keys of `afluente.yml`: how runs execute (`run:` workers, retries,
timeouts), when they start (`schedules:`, cron over selectors) and what triggers them
(`sensors:`, new files under a source's path or a new version of an upstream table).

Cron expressions, timezones and selectors are checked by `afluente validate` (the scheduler
package), where the graph is known; here only the shape of each block is checked.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from afluente.config.observability import parse_duration

CatchUp = Literal["skip", "all"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: Any) -> Any:
    return None if value is None else parse_duration(value)


class RunSettings(_Strict):
    """`run:` how the executor builds the DAG (each model may override retries/timeout)."""

    workers: int = Field(default=4, ge=1, le=256)
    retries: int = Field(default=2, ge=0, le=100)  # transient errors only
    retry_delay: timedelta = timedelta(seconds=2)  # first backoff; doubles, with jitter
    retry_max_delay: timedelta = timedelta(seconds=60)
    timeout: timedelta | None = None  # per model; None waits forever
    lock_timeout: timedelta = timedelta(minutes=10)  # wait for another run's table lock

    _durations = field_validator(
        "retry_delay", "retry_max_delay", "timeout", "lock_timeout", mode="before"
    )(_duration)


class ScheduleSpec(_Strict):
    """One entry of `schedules:`: run `select` when the cron expression is due.

    `stream: true` starts an available-now stream instead of a run: micro-batches of the
    streaming sources (and `select`, default: everything downstream of them) until the
    sources have nothing new, as `afluente stream --trigger available-now` does.
    """

    cron: str = Field(json_schema_extra={"hint": "for example cron: '*/15 * * * *'"})
    select: str | None = None  # None: the whole project
    timezone: str = "UTC"
    catch_up: CatchUp = "skip"  # missed slots: `skip` to the latest, or run `all` of them
    full_refresh: bool = False
    stream: bool = False
    description: str | None = None

    @model_validator(mode="after")
    def _stream_is_incremental(self) -> ScheduleSpec:
        if self.stream and self.full_refresh:
            raise ValueError("a `stream: true` schedule cannot `full_refresh` (a stream "
                             "resumes from the positions its bronze tables hold)")
        return self


class SensorSpec(_Strict):
    """One entry of `sensors:`: run `select` when its trigger sees something new.

    `new_files: SOURCE` fires when files land under a files source's path;
    `new_version: TABLE` fires when that table gets a new Delta version.
    """

    select: str | None = None
    new_files: str | None = None
    new_version: str | None = None
    interval: timedelta = timedelta(seconds=30)  # how often the scheduler looks
    description: str | None = None

    _interval = field_validator("interval", mode="before")(_duration)

    @model_validator(mode="after")
    def _one_trigger(self) -> SensorSpec:
        if (self.new_files is None) == (self.new_version is None):
            raise ValueError("a sensor needs exactly one of `new_files: SOURCE` or "
                             "`new_version: TABLE`")
        return self
