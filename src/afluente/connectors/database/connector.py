"""A database table or query into bronze: whole-table reloads, or cursor increments.

A read opens one metadata connection (retried while the server is unreachable), describes
the columns, fixes the window (the cursor's maximum *now* is the upper bound, so the batch is
deterministic and its watermark is known before the rows are read), then streams the rows
with connectorx in chunks of `chunk_rows`. The watermark is committed with the rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from afluente.connectors.database.config import DatabaseSource
from afluente.connectors.database.dialect import Dialect, Projection, quote_relation
from afluente.connectors.database.endpoint import endpoint_of
from afluente.connectors.database.failures import Failures, cursor_rows
from afluente.connectors.database.rows import shaped
from afluente.connectors.database.watermark import (
    CursorValue,
    Window,
    encode,
    last_watermark,
    sql_literal,
    window,
)
from afluente.connectors.protocol import IngestContext, Ingestion, SourceCheck
from afluente.errors import ConfigError, ConnectorError, Location
from afluente.streams import guarded


class DatabaseConnector:
    """Reads one table or query of a database server through its `dialect`."""

    config_model: type[DatabaseSource] = DatabaseSource
    dialect: Dialect

    def __init__(self, name: str, config: DatabaseSource, root: Path, location: Location) -> None:
        self.name = name
        self.config = config
        self.location = location
        try:
            self.endpoint = endpoint_of(config, self.dialect.scheme, self.dialect.default_port)
        except ValueError as exc:
            raise ConfigError(
                f"source `{name}`: {exc}", location=location,
                hint="e.g. url: ${PG_URL} with PG_URL=postgresql://user:password@host:5432/db",
            ) from None
        self.failures = Failures(name, self.dialect, self.endpoint, location)
        if config.source_table is not None:
            self.relation = quote_relation(self.dialect, config.source_table)
            self.label = config.source_table
        else:
            assert config.query is not None
            self.relation = f"({config.query.strip().rstrip(';')}) AS _afluente_query"
            self.label = "query"

    # -- plan ---------------------------------------------------------------------------

    def check(self, history: Sequence[Mapping[str, Any]]) -> SourceCheck:
        try:
            with self._session() as connection:
                return self._check(connection, history)
        except ConnectorError as exc:
            return SourceCheck(error=exc.message)

    def _check(self, connection: Any, history: Sequence[Mapping[str, Any]]) -> SourceCheck:
        incremental = self.config.incremental
        if incremental is None:
            signature = self._signature(connection)
            return SourceCheck(signature=signature, detail=f"{self.label}, full reload")
        watermark = last_watermark(history)
        if watermark is None:
            return SourceCheck(detail="no watermark yet: reads every row")
        cursor = self.dialect.quote(incremental.cursor)
        sql = f"SELECT count(*) FROM {self.relation} WHERE {cursor} > {self._literal(watermark)}"
        pending = int(self._query(connection, sql, "counting new rows")[0][0])
        return SourceCheck(pending=pending, detail=f"{pending} rows past {watermark}")

    # -- read ---------------------------------------------------------------------------

    def read(self, context: IngestContext) -> Ingestion | None:
        with self._session() as connection:
            projections = self._describe(connection)
            if self.config.incremental is None:
                signature = self._signature(connection)
                progress: dict[str, Any] = {"signature": signature} if signature else {}
                where, mode, summary = "", "overwrite", f"{self.label} (full reload)"
            else:
                bounds = self._window(connection, context)
                if bounds is None:
                    return None
                where, mode = self._where(bounds), "append"
                progress = {**encode(bounds.upper), "cursor": self.config.incremental.cursor}
                summary = f"{self.label} up to {bounds.upper}"
        sql = self._select(projections, where)
        stream = guarded(self._rows(sql, projections), self._read_error)
        return Ingestion(
            stream=stream, mode="append" if mode == "append" else "overwrite",
            progress=progress, summary=summary,
        )

    def _describe(self, connection: Any) -> list[Projection]:
        with connection.cursor() as cursor:
            try:
                cursor.execute(f"SELECT * FROM {self.relation} LIMIT 0")
                cursor.fetchall()
            except Exception as exc:
                raise self.failures.translate(exc, doing=f"reading {self.label}") from None
            return self.dialect.project(cursor.description)

    def _window(self, connection: Any, context: IngestContext) -> Window | None:
        incremental = self.config.incremental
        assert incremental is not None
        cursor = self.dialect.quote(incremental.cursor)
        sql = f"SELECT max({cursor}) FROM {self.relation}"
        upper: CursorValue | None = self._query(connection, sql, "finding the cursor's maximum")[
            0
        ][0]
        watermark = None if context.full_refresh else last_watermark(context.history)
        if upper is None or (watermark is not None and _not_after(upper, watermark)):
            return None
        try:
            return window(incremental, watermark, upper)
        except ValueError as exc:
            raise ConnectorError(
                f"source `{self.name}`: {exc}", location=self.location,
                hint="use a lookback like '10 minutes' for a timestamp or date cursor, an "
                "integer for a numeric one",
            ) from None

    def _where(self, bounds: Window) -> str:
        assert self.config.incremental is not None
        cursor = self.dialect.quote(self.config.incremental.cursor)
        upper = f"{cursor} <= {self._literal(bounds.upper)}"
        if bounds.lower is None:
            return f" WHERE {upper}"
        op = ">=" if bounds.lower_inclusive else ">"
        return f" WHERE {cursor} {op} {self._literal(bounds.lower)} AND {upper}"

    def _select(self, projections: list[Projection], where: str) -> str:
        columns = ", ".join(
            f"{p.expression} AS {self.dialect.quote(p.name)}" for p in projections
        )
        return f"SELECT {columns} FROM {self.relation}{where}"

    def _rows(self, sql: str, projections: list[Projection]) -> Any:
        import connectorx

        options: dict[str, Any] = {"return_type": "arrow_stream",
                                   "batch_size": self.config.chunk_rows}
        if self.dialect.pre_execution:
            options["pre_execution_query"] = self.dialect.pre_execution
        try:
            reader = connectorx.read_sql(self.endpoint.url(), sql, **options)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            raise self._read_error(exc) from None
        return shaped(reader, projections, self.label)

    def _read_error(self, exc: BaseException) -> ConnectorError:
        return self.failures.translate(exc, doing=f"while reading the rows of {self.label}")

    # -- helpers ------------------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[Any]:
        timeout = self.config.connect_timeout
        connection = self.failures.retrying(
            lambda: self.dialect.connect(self.endpoint, timeout), self.config.retries
        )
        try:
            yield connection
        finally:
            connection.close()

    def _query(self, connection: Any, sql: str, doing: str) -> list[tuple[Any, ...]]:
        try:
            return cursor_rows(connection, sql)
        except Exception as exc:
            raise self.failures.translate(exc, doing=doing) from None

    def _signature(self, connection: Any) -> str | None:
        sql = self.dialect.signature_sql(self.relation) if self.config.source_table else None
        if sql is None:
            return None
        found = self._query(connection, sql, f"computing the signature of {self.label}")
        return hashlib.sha256(repr(found).encode()).hexdigest()[:16]

    def _literal(self, value: Any) -> str:
        return sql_literal(value, naive=self.dialect.naive_timestamps)


def _not_after(upper: Any, watermark: Any) -> bool:
    try:
        return bool(upper <= watermark)
    except TypeError:
        return False
