"""The keys of a `type: postgres_cdc` source: the server, the tables to capture, the
publication and replication slot (created when absent) and the micro-batch size."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from afluente.config import SourceBase

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def default_object_name(source: str) -> str:
    """`afluente_<source>`, lower-cased and cut to PostgreSQL's 63 characters."""
    return re.sub(r"[^a-z0-9_]", "_", f"afluente_{source}".lower())[:63]


class PostgresCdcSource(SourceBase):
    """Changes of PostgreSQL tables read from the write-ahead log (logical replication).

    Connect with `url` (`postgresql://user:${PG_PASSWORD}@host:5432/db`) or with
    `host`/`port`/`user`/`password`/`database`; the user needs the REPLICATION attribute
    and SELECT on the tables (creating the publication needs table ownership).
    `source_tables`: the tables to capture (`schema.table`, `public` when no schema).
    `publication` / `slot`: their names (default `afluente_<source>`), created if absent.
    `max_records`: about this many changes per micro-batch (whole transactions always).
    """

    type: Literal["postgres_cdc"] = "postgres_cdc"
    url: str | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    database: str | None = None
    source_tables: tuple[str, ...] = Field(min_length=1)
    publication: str | None = None
    slot: str | None = None
    max_records: int = Field(default=10_000, ge=1)
    connect_timeout: int = Field(default=10, ge=1)
    retries: int = Field(default=3, ge=1, le=10)

    @model_validator(mode="after")
    def _check(self) -> PostgresCdcSource:
        if (self.url is None) == (self.host is None):
            raise ValueError("give exactly one of `url` or `host` (with port/user/database)")
        if self.url is None and self.database is None:
            raise ValueError("`database` is required with `host`")
        for key in ("publication", "slot"):
            value = getattr(self, key)
            if value is not None and not _NAME.match(value):
                raise ValueError(f"`{key}` {value!r} must be a lower-case PostgreSQL name "
                                 "(letters, digits, _; at most 63 characters)")
        return self
