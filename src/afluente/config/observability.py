"""The observability keys of a project: per-table freshness SLAs (`freshness:`) and the
`alerts:` block of `afluente.yml` (channels, severity routing, anomaly detector settings)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Severity = Literal["info", "warning", "error"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> timedelta:
    """`90s`, `30m`, `2h`, `1d`, `1w` (or a number of seconds) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    match = _DURATION.match(str(value))
    if match is None:
        raise ValueError(f"{value!r} is not a duration: write it like 30m, 2h or 1d")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FreshnessSLA(_Strict):
    """How stale a table may get: past `warn_after` it is a warning, past `error_after` an
    error (measured from its last Delta commit, no scan)."""

    warn_after: timedelta | None = None
    error_after: timedelta | None = None

    @field_validator("warn_after", "error_after", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> timedelta | None:
        return None if value is None else parse_duration(value)

    @model_validator(mode="after")
    def _ordered(self) -> FreshnessSLA:
        if self.warn_after is None and self.error_after is None:
            raise ValueError("`freshness` needs `warn_after`, `error_after` or both")
        if self.warn_after and self.error_after and self.warn_after > self.error_after:
            raise ValueError("`warn_after` must not be longer than `error_after`")
        return self


class _Channel(_Strict):
    min_severity: Severity = "warning"  # routing: the channel gets alerts at least this severe


class LogChannel(_Channel):
    type: Literal["log"]


class WebhookChannel(_Channel):
    """A JSON POST per alert; `format: slack` posts a Slack-compatible `{"text", "blocks"}`."""

    type: Literal["webhook"]
    url: str
    format: Literal["json", "slack"] = "json"
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = Field(default=10.0, gt=0)


class EmailChannel(_Channel):
    """One message per alert through an SMTP server (`starttls` when the server offers it
    and `starttls: true`)."""

    type: Literal["email"]
    smtp_host: str = "localhost"
    smtp_port: int = 25
    sender: str = Field(alias="from")
    to: tuple[str, ...]
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = Field(default=10.0, gt=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value


AlertChannel = Annotated[LogChannel | WebhookChannel | EmailChannel, Field(discriminator="type")]


class DetectorConfig(_Strict):
    """The robust anomaly detector: |z| = |x - median| / (1.4826 * MAD) over the last
    `window` healthy runs; nothing is flagged before `min_history` of them exist."""

    min_history: int = Field(default=5, ge=2)
    window: int = Field(default=30, ge=3)
    threshold: float = Field(default=3.5, gt=0)
    seasonality: Literal["none", "day_of_week"] = "none"


class AlertsConfig(_Strict):
    """`alerts:` in afluente.yml. Without channels, incidents still open and show in
    `afluente health`, and go to the log."""

    channels: tuple[AlertChannel, ...] = ()
    detector: DetectorConfig = DetectorConfig()
    distribution: bool = True  # track null rate / distinct count / mean per column
