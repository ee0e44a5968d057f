"""The `postgres_cdc` connector: an initial snapshot, then the change stream, exactly once.

First read (or `--full-refresh`): the publication is created (or reset), the slot is
(re)created with an exported snapshot, and every captured table is copied under that
snapshot: bronze's first commit holds the tables as of the slot's consistent point, tagged
`_op = 'snapshot'`, and that LSN as its position. Later reads decode the slot's changes
after the LSN bronze's newest commit holds (never the slot's own position: when a process
died between the bronze commit and the slot's confirmation, the slot is first moved up to
bronze's LSN), up to about `max_records` changes in whole transactions. The LSN past the
last transaction is written in the same Delta commit as the rows (in the commit's progress
and as the app transaction `afluente:postgres_cdc:<source>`), and the slot is confirmed to
it only after that commit.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from afluente.connectors.database.endpoint import endpoint_of
from afluente.connectors.database.failures import Failures, first_line
from afluente.connectors.database.postgres import PostgresDialect
from afluente.connectors.postgres_cdc.config import PostgresCdcSource, default_object_name
from afluente.connectors.postgres_cdc.pgoutput import Decoder, Transaction, lsn_number, lsn_text
from afluente.connectors.postgres_cdc.rows import ColumnType, RowBuilder, Shape, transactions_rows
from afluente.connectors.postgres_cdc.server import Server, Table
from afluente.connectors.protocol import IngestContext, Ingestion, IngestStats, SourceCheck
from afluente.errors import ConfigError, ConnectorError, Location
from afluente.streams import ResultStream, guarded

LOGGER = logging.getLogger("afluente.postgres_cdc")
PROGRESS_KEY = "postgres_cdc"
SNAPSHOT_BATCH_ROWS = 10_000
# while the captured tables do not change, the slot is confirmed past other writes once
# they pass this much WAL (one segment), so that the server can recycle it
IDLE_CONFIRM_BYTES = 16 * 1024 * 1024
_SNAPSHOT_NAME = re.compile(r"^[0-9A-F-]+$")


def position_app_id(source: str) -> str:
    """The Delta app-transaction id holding the LSN bronze has every change before."""
    return f"afluente:postgres_cdc:{source}"


def recorded_lsn(progress: Mapping[str, Any]) -> int | None:
    found = progress.get(PROGRESS_KEY)
    return lsn_number(found["lsn"]) if isinstance(found, dict) and "lsn" in found else None


def _progress(source: str, slot: str, lsn: int, snapshot: bool) -> dict[str, Any]:
    return {
        PROGRESS_KEY: {"lsn": lsn_text(lsn), "slot": slot, "snapshot": snapshot},
        "complete": True,
        "transactions": {position_app_id(source): lsn},
    }


def confirm(server: Server, slot: str, lsn: int) -> None:
    """Tell the slot that bronze holds every change before `lsn` (after the Delta commit)."""
    try:
        server.advance(slot, lsn)
    finally:
        server.close()


def _confirm_after_commit(connect: Callable[[], Server], slot: str, lsn: int) -> None:
    """`confirm`, best effort: the changes are in bronze already, and a slot left behind
    is moved up to bronze's LSN by the next micro-batch."""
    try:
        confirm(connect(), slot, lsn)
    except ConnectorError as exc:
        LOGGER.warning("confirming replication slot %s up to %s failed (the next "
                       "micro-batch does it): %s", slot, lsn_text(lsn), exc.message)


class PostgresCdcConnector:
    """Changes of PostgreSQL tables from a logical replication slot."""

    config_model = PostgresCdcSource

    def __init__(self, name: str, config: PostgresCdcSource, root: Path,
                 location: Location) -> None:
        self.name, self.config, self.location = name, config, location
        dialect = PostgresDialect()
        try:
            self.endpoint = endpoint_of(config, dialect.scheme, dialect.default_port)
        except ValueError as exc:
            raise ConfigError(
                f"source `{name}`: {exc}", location=location,
                hint="e.g. url: ${PG_URL} with PG_URL=postgresql://user:password@host:5432/db",
            ) from None
        self.failures = Failures(name, dialect, self.endpoint, location)
        self.slot = config.slot or default_object_name(name)
        self.publication = config.publication or default_object_name(name)

    def _server(self) -> Server:
        return Server(self.name, self.endpoint, self.failures, self.config.connect_timeout,
                      self.config.retries)

    def check(self, history: Sequence[Mapping[str, Any]]) -> SourceCheck:
        try:
            server = self._server()
        except ConnectorError as exc:
            return SourceCheck(error=exc.message)
        try:
            server.require_logical_wal()
            tables = server.tables(self.config.source_tables)
            slot = server.slot(self.slot)
        except ConnectorError as exc:
            return SourceCheck(error=exc.message)
        finally:
            server.close()
        where = "no slot yet: takes a snapshot" if slot is None else f"slot `{self.slot}`"
        return SourceCheck(detail=f"{len(tables)} tables, {where}")

    def read(self, context: IngestContext) -> Ingestion | None:
        done = None if context.full_refresh else recorded_lsn(context.progress)
        server = self._server()
        try:
            server.require_logical_wal()
            tables = server.tables(self.config.source_tables)
            shape, names = self._shape(server, tables)
            server.ensure_publication(self.publication, tables, reset=done is None)
            if done is None:
                return self._snapshot(server, tables, shape, names)
            found = self._changes(server, tables, shape, done, context)
        except BaseException:
            server.close()
            raise
        server.close()
        return found

    def _shape(self, server: Server, tables: Sequence[Table]
               ) -> tuple[Shape, dict[int, list[str]]]:
        union: dict[str, ColumnType] = {}
        owner: dict[str, str] = {}
        names: dict[int, list[str]] = {}
        for table in tables:
            columns = server.columns([table])[table.oid]
            names[table.oid] = [n for n, _ in columns]
            for name, kind in columns:
                if name in union and union[name].arrow != kind.arrow:
                    raise server.error(
                        f"column `{name}` is {union[name].arrow} in `{owner[name]}` but "
                        f"{kind.arrow} in `{table.qualified}`; one bronze table cannot hold both",
                        "capture these tables in separate sources",
                    )
                union.setdefault(name, kind)
                owner.setdefault(name, table.qualified)
        loaders = {name: server.loader(kind.oid) for name, kind in union.items()}
        e = self.endpoint
        return Shape(union, loaders, f"postgres://{e.host}:{e.port}/{e.database}/"), names

    # -- the initial snapshot -----------------------------------------------------------

    def _snapshot(self, server: Server, tables: Sequence[Table], shape: Shape,
                  names: dict[int, list[str]]) -> Ingestion:
        existing = server.slot(self.slot)
        if existing is not None:  # bronze holds nothing of it: a new snapshot replaces it
            server.drop_slot(self.slot)
        replication, lsn, snapshot = server.create_slot(self.slot)
        try:
            if not _SNAPSHOT_NAME.match(snapshot):
                raise server.error(f"unexpected snapshot name {snapshot!r}", "report this")
            server.connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            server.connection.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            taken_at = server.connection.execute("SELECT now()").fetchone()[0]
        finally:
            replication.close()  # the snapshot is imported: the exporter may go
        batches = self._snapshot_batches(server, tables, shape, names, lsn, taken_at)

        def translate(exc: Exception) -> BaseException | None:
            return server.error(f"reading the snapshot from {server.where} failed: "
                                f"{first_line(exc)}",
                                "nothing was written; the next run takes a new snapshot")

        stream = guarded(pa.RecordBatchReader.from_batches(shape.schema, batches), translate,
                         on_close=server.close)
        return Ingestion(
            stream=stream,
            mode="overwrite",
            progress=_progress(self.name, self.slot, lsn, snapshot=True),
            summary=f"snapshot of {len(tables)} tables at LSN {lsn_text(lsn)}",
        )

    def _snapshot_batches(self, server: Server, tables: Sequence[Table], shape: Shape,
                          names: dict[int, list[str]], lsn: int, taken_at: datetime
                          ) -> Iterator[pa.RecordBatch]:
        builder = RowBuilder(shape)
        for table in tables:
            columns = names[table.oid]
            select = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
            with server.connection.cursor() as cursor, cursor.copy(
                f"COPY (SELECT {select} FROM {table.quoted}) TO STDOUT"
            ) as copy:
                for values in copy.rows():
                    builder.add_snapshot(table.qualified, columns, values, lsn, taken_at)
                    if len(builder.rows) >= SNAPSHOT_BATCH_ROWS:
                        yield builder.take()
        server.connection.execute("COMMIT")
        if builder.rows:
            yield builder.take()

    # -- the change stream --------------------------------------------------------------

    def _changes(self, server: Server, tables: Sequence[Table], shape: Shape, done: int,
                 context: IngestContext) -> Ingestion | None:
        self._resume_slot(server, done)
        transactions, decoded_to = self._decode(server, tables, done)
        if not transactions:
            if server.wal_since(done) < IDLE_CONFIRM_BYTES:
                return None
            if decoded_to is None and self._heartbeat(server):
                transactions, decoded_to = self._decode(server, tables, done)
        if not transactions:
            return None if decoded_to is None else self._idle(shape, decoded_to)
        builder = RowBuilder(shape)
        count = transactions_rows(builder, transactions)
        context.report(IngestStats(rows=count))
        batch = builder.take()
        lsn = transactions[-1].end_lsn
        return Ingestion(
            stream=ResultStream(pa.RecordBatchReader.from_batches(batch.schema, [batch])),
            progress=_progress(self.name, self.slot, lsn, snapshot=False),
            summary=f"{count} changes in {len(transactions)} transactions up to LSN "
            f"{lsn_text(lsn)}",
            on_committed=self._confirming(lsn),
        )

    def _decode(self, server: Server, tables: Sequence[Table], done: int
                ) -> tuple[list[Transaction], int | None]:
        """The transactions after `done` with changes of the captured tables, and the end
        of the last transaction decoded when none has (None when nothing was decoded)."""
        messages = server.peek(self.slot, self.publication, self.config.max_records)
        captured = {t.qualified for t in tables}  # a publication may publish more
        found, last = [], None
        for transaction in Decoder().transactions(messages):
            if transaction.end_lsn <= done:
                continue
            last = transaction.end_lsn
            transaction.changes = [c for c in transaction.changes
                                   if c.relation.qualified in captured]
            if transaction.changes:
                found.append(transaction)
        return found, None if found else last

    def _heartbeat(self, server: Server) -> bool:
        try:
            server.heartbeat()
        except ConnectorError as exc:
            LOGGER.warning("source %s: writing a heartbeat message failed, so the slot keeps "
                           "the WAL written since the last change: %s", self.name, exc.message)
            return False
        return True

    def _idle(self, shape: Shape, lsn: int) -> Ingestion:
        """No change of the captured tables while other writes filled the WAL: an empty
        commit records the heartbeat's LSN, so the slot can be confirmed past that WAL and
        the server may recycle it."""
        empty = RowBuilder(shape).take()
        return Ingestion(
            stream=ResultStream(pa.RecordBatchReader.from_batches(empty.schema, [empty])),
            progress=_progress(self.name, self.slot, lsn, snapshot=False),
            summary=f"no change of the captured tables; the slot moves to LSN {lsn_text(lsn)}",
            on_committed=self._confirming(lsn),
        )

    def _confirming(self, lsn: int) -> Callable[[], None]:
        def committed() -> None:
            _confirm_after_commit(self._server, self.slot, lsn)

        return committed

    def _resume_slot(self, server: Server, done: int) -> None:
        """Put the slot at bronze's LSN, or say why the changes after it cannot be read."""
        slot = server.slot(self.slot)
        bronze = self.config.table or f"bronze.{self.name}"
        recover = (f"take a new snapshot: `afluente run --full-refresh --select {bronze}` "
                   "(it recreates the slot and replaces bronze; apply_changes tables "
                   "downstream keep their history and fold the snapshot in)")
        if slot is None:
            raise server.error(
                f"replication slot `{self.slot}` no longer exists on {server.where}; bronze "
                f"holds every change before LSN {lsn_text(done)}, so the changes committed "
                "since then may be missing",
                recover,
            )
        if slot.plugin != "pgoutput" or slot.database != self.endpoint.database:
            raise server.error(
                f"replication slot `{self.slot}` on {server.where} is a `{slot.plugin}` slot "
                f"of database `{slot.database}`, not this source's",
                "give the source its own `slot` name",
            )
        if slot.wal_status == "lost" or slot.confirmed is None:
            raise server.error(
                f"replication slot `{self.slot}` on {server.where} lost the write-ahead log "
                f"after LSN {lsn_text(done)} (wal_status `{slot.wal_status}`, see "
                "`max_slot_wal_keep_size`): the changes since then may be missing",
                recover,
            )
        if slot.confirmed > done:
            raise server.error(
                f"replication slot `{self.slot}` on {server.where} was confirmed up to LSN "
                f"{lsn_text(slot.confirmed)}, past the {lsn_text(done)} bronze holds (another "
                "reader used the slot, or bronze was restored): the changes between the two "
                "may be missing",
                recover,
            )
        if slot.confirmed < done:  # a process died between the bronze commit and this
            server.advance(self.slot, done)
