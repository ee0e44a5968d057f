"""Database failures as afluente errors: unreachable servers are retried with backoff, then
reported; refused credentials and bad SQL are reported at once. Messages name the source,
server and database, never a password."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from afluente.connectors.database.dialect import Dialect
from afluente.connectors.database.endpoint import Endpoint, mask_url
from afluente.errors import ConnectorError, Location

T = TypeVar("T")
BACKOFF_SECONDS = 0.5


def first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return mask_url(lines[0] if lines else type(exc).__name__)


@dataclass(frozen=True)
class Failures:
    """Builds the errors of one source."""

    source: str
    dialect: Dialect
    endpoint: Endpoint
    location: Location

    def retrying(self, action: Callable[[], T], attempts: int) -> T:
        """`action()`, retried with exponential backoff while the server is unreachable."""
        for attempt in range(1, attempts + 1):
            try:
                return action()
            except Exception as exc:
                kind = self.dialect.classify(exc)
                if kind != "unreachable" or attempt == attempts:
                    raise self.translate(exc, attempts=attempt) from None
                time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def translate(self, exc: BaseException, attempts: int = 1, doing: str = "") -> ConnectorError:
        """The afluente error for a driver or reader error."""
        if isinstance(exc, ConnectorError):
            return exc
        kind = self.dialect.classify(exc)
        e, label = self.endpoint, self.dialect.label
        server = f"{label} at {e.host}:{e.port} (database `{e.database}`)"
        detail = first_line(exc)
        if kind == "unreachable":
            tries = f" after {attempts} attempts" if attempts > 1 else ""
            return self._error(
                f"cannot reach {server}{tries}: {detail}",
                "check that the server is up and `url` (or host/port) is right; "
                "nothing was written, the next run retries",
            )
        if kind == "auth":
            return self._error(
                f"{label} refused user `{e.user}` on {e.host}:{e.port} (database "
                f"`{e.database}`): {detail}",
                "check the user and password (e.g. the variable `url: ${...}` reads) and "
                "the user's grants",
            )
        if kind == "database":
            return self._error(
                f"database `{e.database}` not found on {label} at {e.host}:{e.port}: {detail}",
                "check the database name in `url` or `database`",
            )
        what = f" {doing}" if doing else ""
        return self._error(
            f"{server} rejected the query{what}: {detail}",
            "check `source_table`/`query` and `incremental.cursor` against the database; "
            "nothing was written",
        )

    def _error(self, message: str, hint: str) -> ConnectorError:
        return ConnectorError(
            f"source `{self.source}`: {message}", location=self.location, hint=hint
        )


def cursor_rows(connection: Any, sql: str) -> list[tuple[Any, ...]]:
    """All rows of a small metadata query."""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())
