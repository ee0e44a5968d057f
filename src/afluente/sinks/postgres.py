"""`type: postgres`: publish gold tables to a PostgreSQL schema as a data mart.

Each table is published in ONE transaction that also records, in
`<schema>._afluente_published`, the Delta version it came from. A version is therefore
published exactly once: a crash before the commit leaves the old table and the old record,
a re-run after the commit finds the record and skips the table. A transaction-scoped
advisory lock per target makes concurrent publishers of the same table take turns.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg import sql

from afluente.errors import Location
from afluente.sinks.config import SinkBase
from afluente.sinks.errors import SinkError, TransientSinkError
from afluente.sinks.postgres_conn import PostgresSinkConfig, Server, backoff_s, connect, translate
from afluente.sinks.postgres_load import Cursor, replace, upsert
from afluente.sinks.protocol import PublishOutcome, PublishStatus, SinkTable, TableData

PUBLISHED_TABLE = "_afluente_published"


class PostgresSink:
    """One connection to a PostgreSQL sink, opened on first use."""

    config_model = PostgresSinkConfig

    def __init__(self, name: str, config: SinkBase, location: Location) -> None:
        assert isinstance(config, PostgresSinkConfig)
        self.name = name
        self.config = config
        self.server = Server.parse(name, config.url, location)
        self._conn: psycopg.Connection[Any] | None = None

    def publish(self, table: SinkTable, data: TableData, *, run_id: str,
                force: bool = False) -> PublishOutcome:
        """Publish `data` (see the module doc); transient failures are retried whole."""
        started = time.perf_counter()
        for attempt in range(self.config.retries + 1):
            try:
                rows = self._publish_once(table, data, run_id, force)
                break
            except TransientSinkError:
                self.close()
                if attempt == self.config.retries:
                    raise
                time.sleep(backoff_s(attempt))
        status: PublishStatus = "up_to_date" if rows is None else "published"
        return PublishOutcome(self.name, str(table.ref), f"{self.config.target_schema}."
                              f"{table.target}", status, table.options.mode, data.version,
                              rows, time.perf_counter() - started)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- one attempt -------------------------------------------------------------------------

    def _publish_once(self, table: SinkTable, data: TableData, run_id: str,
                      force: bool) -> int | None:
        conn = self._connection()
        try:
            with conn.transaction(), conn.cursor() as cur:
                self._lock(cur, table.target)
                if not force and self._already_published(cur, table, data.version):
                    return None
                rows = self._load(cur, table, data)
                self._record(cur, table, data.version, rows, run_id)
                return rows
        except psycopg.Error as exc:
            raise translate(exc, self.server, f"publishing `{table.ref}` to "
                            f"{self.config.target_schema}.{table.target}", conn.broken) from None

    def _load(self, cur: Cursor, table: SinkTable, data: TableData) -> int:
        schema = self.config.target_schema
        if table.options.mode == "upsert":
            return upsert(cur, schema, table, data.schema, data.batches())
        return replace(cur, schema, table, data.schema, data.batches(),
                       self.config.lock_timeout_s)

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            conn = connect(self.server, self.config)
            try:
                self._prepare(conn)
            except psycopg.Error as exc:
                conn.close()
                raise translate(exc, self.server, f"creating schema "
                                f"`{self.config.target_schema}`", conn.broken) from None
            self._conn = conn
        return self._conn

    def _prepare(self, conn: psycopg.Connection[Any]) -> None:
        schema = self.config.target_schema
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                        [f"afluente schema {schema}"])
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            cur.execute(sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (table_name text PRIMARY KEY, "
                "source_table text NOT NULL, delta_version bigint NOT NULL, mode text NOT NULL, "
                "rows bigint, run_id text, published_at timestamptz NOT NULL DEFAULT now())"
            ).format(sql.Identifier(schema, PUBLISHED_TABLE)))

    # -- the published-version record --------------------------------------------------------

    def _lock(self, cur: Cursor, target: str) -> None:
        key = f"afluente publish {self.config.target_schema}.{target}"
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])

    def _already_published(self, cur: Cursor, table: SinkTable, version: int) -> bool:
        cur.execute(sql.SQL(
            "SELECT source_table, delta_version, mode, to_regclass({}) IS NOT NULL "
            "FROM {} WHERE table_name = %s").format(
            sql.Literal(sql.Identifier(self.config.target_schema, table.target)
                        .as_string(cur)),
            sql.Identifier(self.config.target_schema, PUBLISHED_TABLE)), [table.target])
        row = cur.fetchone()
        return row == (str(table.ref), version, table.options.mode, True)

    def _record(self, cur: Cursor, table: SinkTable, version: int, rows: int,
                run_id: str) -> None:
        cur.execute(sql.SQL(
            "INSERT INTO {} (table_name, source_table, delta_version, mode, rows, run_id, "
            "published_at) VALUES (%s, %s, %s, %s, %s, %s, now()) ON CONFLICT (table_name) "
            "DO UPDATE SET source_table = EXCLUDED.source_table, delta_version = "
            "EXCLUDED.delta_version, mode = EXCLUDED.mode, rows = EXCLUDED.rows, "
            "run_id = EXCLUDED.run_id, published_at = EXCLUDED.published_at"
        ).format(sql.Identifier(self.config.target_schema, PUBLISHED_TABLE)),
            [table.target, str(table.ref), version, table.options.mode, rows, run_id])


__all__ = ["PostgresSink", "PostgresSinkConfig", "SinkError"]
