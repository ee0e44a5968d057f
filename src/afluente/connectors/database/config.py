"""The keys of a `type: postgres` / `type: mysql` / `type: mariadb` source.

The table to read is `source_table` (`schema.table` allowed) because `table` already names
the bronze table the rows land in; a `query` may be given instead. `incremental` reads only
rows whose cursor column moved past the last watermark (minus a `lookback` for late rows).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from afluente.config import SourceBase

_LOOKBACK = re.compile(
    r"^\s*(\d+)\s*(second|minute|hour|day|week)s?\s*$", re.IGNORECASE
)


def parse_lookback(text: str) -> timedelta:
    """`"10 minutes"` → timedelta(minutes=10); units: seconds, minutes, hours, days, weeks."""
    found = _LOOKBACK.match(text)
    if found is None:
        raise ValueError(
            f"lookback {text!r} is not `<number> <unit>` (units: seconds, minutes, hours, "
            "days, weeks), e.g. '10 minutes'; use an integer for a numeric cursor"
        )
    amount, unit = int(found.group(1)), found.group(2).lower()
    return timedelta(**{unit + "s": amount})


class Incremental(BaseModel):
    """Read only rows whose `cursor` is past the recorded watermark.

    `lookback` re-reads a window before the watermark (`"10 minutes"` for a timestamp cursor,
    an integer for a numeric one) to catch rows committed late with an older cursor value;
    those rows land in bronze again (silver dedups by key). `initial`: on the first run, read
    only rows whose cursor is at least this value.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    cursor: str = Field(min_length=1)
    lookback: str | int | None = None
    initial: str | int | None = None

    @field_validator("lookback")
    @classmethod
    def _check_lookback(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, str):
            parse_lookback(value)
        if isinstance(value, int) and value < 0:
            raise ValueError("lookback must not be negative")
        return value


class DatabaseSource(SourceBase):
    """A table or query of a relational database, read in chunks of `chunk_rows` rows.

    Connect with `url` (`postgresql://user:${PG_PASSWORD}@host:5432/db`, usually from the
    environment: `url: ${PG_URL}`) or with `host`/`port`/`user`/`password`/`database`.
    Without `incremental`, every run reloads the whole table (bronze is overwritten).
    """

    url: str | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    database: str | None = None
    source_table: str | None = None
    query: str | None = None
    incremental: Incremental | None = None
    chunk_rows: int = Field(default=100_000, ge=1_000)
    connect_timeout: int = Field(default=10, ge=1)
    retries: int = Field(default=3, ge=1, le=10)

    @model_validator(mode="after")
    def _check_what_and_where(self) -> DatabaseSource:
        if (self.source_table is None) == (self.query is None):
            raise ValueError("give exactly one of `source_table` (a table) or `query`")
        if (self.url is None) == (self.host is None):
            raise ValueError("give exactly one of `url` or `host` (with port/user/database)")
        if self.url is None and self.database is None:
            raise ValueError("`database` is required with `host`")
        return self


class PostgresSource(DatabaseSource):
    type: Literal["postgres"]


class MySqlSource(DatabaseSource):
    type: Literal["mysql", "mariadb"]
