"""Connecting to a PostgreSQL sink: its config keys, retries, and errors that name the sink
and the server but never the password."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from afluente.errors import Location
from afluente.sinks.config import SinkBase
from afluente.sinks.errors import SinkError, TransientSinkError

if TYPE_CHECKING:
    import psycopg

#: SQLSTATEs worth a retry besides class 08 (connection exceptions).
_TRANSIENT_STATES = {"40001", "40P01", "57P01", "57P02", "57P03"}

_HINTS = {
    "23505": "the gold table has duplicate values in `keys`; fix the model or the keys",
    "22P05": "PostgreSQL text cannot hold a NUL character; strip it in the gold model",
    "22021": "PostgreSQL text cannot hold a NUL character; strip it in the gold model",
    "55P03": "a reader holds the table; raise `lock_timeout_s` or retry when it finishes",
    "42P10": "the existing table has no primary key or unique index on `keys`; add one, "
             "or drop the table so afluente creates it",
    "2BP01": "views depend on the table; `mode: replace` drops it — use `mode: upsert` "
             "or drop the views first",
    "42501": "grant the user CREATE on the database and schema",
}


with warnings.catch_warnings():  # `schema` is the key users write; pydantic's old
    warnings.filterwarnings("ignore", "Field name \"schema\"")  # method of that name is unused

    class PostgresSinkConfig(SinkBase):
        """`type: postgres`: where the data mart lives and how to reach it."""

        type: Literal["postgres"] = "postgres"
        url: str = Field(json_schema_extra={
            "hint": "a libpq URL, e.g. postgresql://user:${MART_PG_PASSWORD}@host:5432/mart"})
        schema: str = "public"  # type: ignore[assignment]
        connect_timeout_s: int = Field(default=10, ge=1)
        retries: int = Field(default=2, ge=0)
        lock_timeout_s: float = Field(default=30.0, gt=0)

        @property
        def target_schema(self) -> str:
            return str(self.schema)


@dataclass(frozen=True)
class Server:
    """The parts of the sink URL that errors may show (never the password)."""

    sink: str
    conninfo: str
    host: str
    port: str
    database: str
    user: str
    password: str | None
    location: Location

    @classmethod
    def parse(cls, sink: str, url: str, location: Location) -> Server:
        from psycopg import conninfo as ci

        plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
        try:
            parts = ci.conninfo_to_dict(plain)
        except Exception:  # psycopg's parse errors may echo the URL, password included
            raise SinkError(f"sink `{sink}`: `url` is not a valid PostgreSQL URL",
                            location=location,
                            hint="write postgresql://user:password@host:port/database") from None
        return cls(sink, plain, str(parts.get("host", "localhost")),
                   str(parts.get("port", "5432")), str(parts.get("dbname", "")),
                   str(parts.get("user", "")), _text(parts.get("password")), location)

    def __str__(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.database}"

    def mask(self, text: str) -> str:
        return text.replace(self.password, "***") if self.password else text


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def connect(server: Server, config: PostgresSinkConfig) -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection (afluente opens its own transactions), retried with backoff
    when the server is unreachable; the last failure becomes a SinkError."""
    for attempt in range(config.retries + 1):
        try:
            return _connect_once(server, config)
        except TransientSinkError:
            if attempt == config.retries:
                raise
            time.sleep(backoff_s(attempt))
    raise AssertionError("unreachable")


def backoff_s(attempt: int) -> float:
    return min(0.25 * 2**attempt, 5.0)


def _connect_once(server: Server, config: PostgresSinkConfig) -> psycopg.Connection[
        tuple[object, ...]]:
    import psycopg

    try:
        return psycopg.connect(server.conninfo, autocommit=True, application_name="afluente",
                               connect_timeout=config.connect_timeout_s)
    except psycopg.Error as exc:
        reason = server.mask(str(exc).strip().splitlines()[-1] if str(exc).strip() else "")
        auth = any(w in reason for w in ("password", "authentication", "role", "does not exist"))
        error = SinkError if auth else TransientSinkError
        raise error(
            f"sink `{server.sink}`: cannot connect to PostgreSQL at {server}: {reason}",
            location=server.location,
            hint="check the user and password in the sink's url" if auth else
            "check that the server is running and reachable from here",
        ) from None


def translate(exc: Exception, server: Server, what: str, broken: bool) -> SinkError:
    """A psycopg error while publishing → SinkError (transient when the connection broke)."""
    state = getattr(exc, "sqlstate", None) or ""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) or str(exc).strip()
    context = getattr(diag, "context", None)
    where = f" ({context.strip().splitlines()[-1]})" if context else ""
    transient = broken or state.startswith("08") or state in _TRANSIENT_STATES
    error = TransientSinkError if transient else SinkError
    return error(
        server.mask(f"sink `{server.sink}` ({server}): {what} failed: {primary}{where}"),
        location=server.location,
        hint=_HINTS.get(state, "the previously published table is unchanged; "
                        "see the message above"),
    )
