"""What a `postgres_cdc` source asks of the server, over ordinary psycopg connections.

psycopg 3 does not speak the streaming replication protocol, so changes are read with
`pg_logical_slot_peek_binary_changes` (the built-in `pgoutput` plugin, filtered by the
source's publication) and confirmed with `pg_replication_slot_advance` once bronze has
committed them. Only creating the slot uses a replication connection
(`replication=database`): `CREATE_REPLICATION_SLOT ... EXPORT_SNAPSHOT` gives the snapshot
the initial copy reads, consistent with the slot's first position. Every failure becomes a
`ConnectorError` that names the server and says what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from afluente.connectors.database.endpoint import Endpoint
from afluente.connectors.database.failures import Failures, first_line
from afluente.connectors.postgres_cdc.pgoutput import lsn_number, lsn_text
from afluente.connectors.postgres_cdc.rows import RESERVED, ColumnType, Loader, column_type
from afluente.errors import ConnectorError

_TABLES_SQL = """
SELECT n.nspname, c.relname, c.oid::bigint, c.relreplident::text,
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY 1, 2
"""
_COLUMNS_SQL = """
SELECT a.attrelid::bigint, a.attname, a.atttypid::bigint, a.atttypmod
FROM pg_attribute a
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""
_SLOT_SQL = """
SELECT plugin, database, confirmed_flush_lsn::text, wal_status, active_pid
FROM pg_replication_slots WHERE slot_name = %s AND slot_type = 'logical'
"""
_PEEK_SQL = (
    "SELECT data FROM pg_logical_slot_peek_binary_changes("
    "%s, NULL, %s, 'proto_version', '1', 'publication_names', %s, 'messages', 'true')"
)
HEARTBEAT_PREFIX = "afluente"


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    oid: int
    replica_identity: str  # d(efault) n(othing) f(ull) i(ndex)
    has_primary_key: bool

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def quoted(self) -> str:
        return f"{_quote(self.schema)}.{_quote(self.name)}"


@dataclass(frozen=True)
class Slot:
    plugin: str
    database: str
    confirmed: int | None
    wal_status: str | None
    active_pid: int | None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Server:
    """One connection to the source's database, and the source's names on it."""

    def __init__(self, source: str, endpoint: Endpoint, failures: Failures,
                 timeout: int, retries: int) -> None:
        self.source, self.endpoint, self.failures = source, endpoint, failures
        self.timeout = timeout
        self.connection = failures.retrying(lambda: self._connect(), retries)

    def _connect(self, **extra: Any) -> Any:
        import psycopg

        e = self.endpoint
        connection = psycopg.connect(
            host=e.host, port=e.port, user=e.user, password=e.password, dbname=e.database,
            connect_timeout=self.timeout, autocommit=True, **extra,
        )
        if not extra:
            connection.execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; "
                               "SET IntervalStyle = 'iso_8601'")
        return connection

    @property
    def where(self) -> str:
        e = self.endpoint
        return f"PostgreSQL at {e.host}:{e.port} (database `{e.database}`)"

    def error(self, message: str, hint: str) -> ConnectorError:
        return ConnectorError(f"source `{self.source}`: {message}",
                              location=self.failures.location, hint=hint)

    def query(self, sql: str, params: Sequence[Any] | None = None, doing: str = ""
              ) -> list[Any]:
        import psycopg

        try:
            with self.connection.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall()) if cursor.description else []
        except psycopg.Error as exc:
            kind = self.failures.dialect.classify(exc)
            if kind in ("unreachable", "auth", "database"):
                raise self.failures.translate(exc) from None
            raise self.error(f"{self.where} refused {doing}: {first_line(exc)}",
                             "see the server's message; nothing was written to bronze") from None

    def close(self) -> None:
        self.connection.close()

    # -- checks ------------------------------------------------------------------------

    def require_logical_wal(self) -> None:
        level = self.query("SHOW wal_level", doing="`SHOW wal_level`")[0][0]
        if level != "logical":
            raise self.error(
                f"{self.where} has `wal_level = {level}`; log-based change capture needs "
                "`wal_level = logical`",
                "set it on the server (`ALTER SYSTEM SET wal_level = logical`, with "
                "`max_replication_slots` and `max_wal_senders` of at least 1) and restart "
                "PostgreSQL; nothing was written",
            )

    def tables(self, wanted: Sequence[str]) -> list[Table]:
        """The captured tables; a missing one is named with the tables that exist."""
        found = {
            f"{schema}.{name}": Table(schema, name, int(oid), ident, bool(pk))
            for schema, name, oid, ident, pk in self.query(_TABLES_SQL, doing="listing tables")
        }
        chosen = []
        for name in wanted:
            qualified = name if "." in name else f"public.{name}"
            if qualified not in found:
                existing = ", ".join(found) or "none"
                raise self.error(
                    f"table `{qualified}` does not exist in {self.where} (existing tables: "
                    f"{existing})",
                    "fix `source_tables` (`schema.table`; `public` when no schema is given)",
                )
            chosen.append(found[qualified])
        for table in chosen:
            self._require_identity(table)
        return chosen

    def _require_identity(self, table: Table) -> None:
        if table.replica_identity == "n" or (
            table.replica_identity == "d" and not table.has_primary_key
        ):
            raise self.error(
                f"table `{table.qualified}` has no primary key and no REPLICA IDENTITY: "
                "once published, PostgreSQL would refuse its UPDATEs and DELETEs",
                f"add a primary key, or run `ALTER TABLE {table.quoted} REPLICA IDENTITY "
                "FULL`; nothing was created on the server",
            )

    def columns(self, tables: Sequence[Table]) -> dict[int, list[tuple[str, ColumnType]]]:
        """Each table's columns (by table OID) with their bronze types."""
        found: dict[int, list[tuple[str, ColumnType]]] = {t.oid: [] for t in tables}
        rows = self.query(_COLUMNS_SQL, [[t.oid for t in tables]], doing="reading columns")
        by_oid = {t.oid: t for t in tables}
        for relid, name, oid, typmod in rows:
            if name in RESERVED:
                raise self.error(
                    f"table `{by_oid[int(relid)].qualified}` has a column `{name}`, a name "
                    "bronze uses for the change's metadata",
                    f"rename the column: bronze reserves {', '.join(sorted(RESERVED))}",
                )
            found[int(relid)].append((name, column_type(int(oid), int(typmod))))
        return found

    def loader(self, oid: int) -> Loader:
        """Text form → Python value, as psycopg loads it (the text itself for oid 0)."""
        if oid == 0:
            return str
        from psycopg.adapt import Transformer
        from psycopg.pq import Format

        load = Transformer(self.connection).get_loader(oid, Format.TEXT).load
        return lambda text: load(text.encode("utf-8"))

    # -- publication and slot ----------------------------------------------------------

    def ensure_publication(self, name: str, tables: Sequence[Table], reset: bool) -> None:
        """Create the publication of `tables`; on a reset, make it publish exactly them."""
        listed = ", ".join(t.quoted for t in tables)
        rows = self.query(
            "SELECT schemaname || '.' || tablename FROM pg_publication_tables "
            "WHERE pubname = %s", [name], doing="reading publications")
        exists = bool(self.query("SELECT 1 FROM pg_publication WHERE pubname = %s", [name],
                                 doing="reading publications"))
        if not exists:
            self.query(f"CREATE PUBLICATION {_quote(name)} FOR TABLE {listed}",
                       doing=f"creating publication `{name}`")
            return
        published = {r[0] for r in rows}
        if published == {t.qualified for t in tables}:
            return
        if reset:
            self.query(f"ALTER PUBLICATION {_quote(name)} SET TABLE {listed}",
                       doing=f"changing publication `{name}`")
            return
        raise self.error(
            f"publication `{name}` publishes {', '.join(sorted(published)) or 'no table'}, "
            f"but the source captures {', '.join(t.qualified for t in tables)}",
            "a table added to a running capture has no snapshot: take a new one with "
            "`afluente run --full-refresh --select <the source's bronze table>`",
        )

    def slot(self, name: str) -> Slot | None:
        rows = self.query(_SLOT_SQL, [name], doing="reading replication slots")
        if not rows:
            return None
        plugin, database, confirmed, wal_status, pid = rows[0]
        return Slot(plugin, database, lsn_number(confirmed) if confirmed else None,
                    wal_status, pid)

    def drop_slot(self, name: str) -> None:
        self.query("SELECT pg_drop_replication_slot(%s)", [name],
                   doing=f"dropping replication slot `{name}`")

    def create_slot(self, name: str) -> tuple[Any, int, str]:
        """A new slot, with the replication connection holding its exported snapshot open
        (close it once the snapshot is imported), the slot's LSN and the snapshot's name."""
        import psycopg

        try:
            replication = self._connect(replication="database")
        except psycopg.Error as exc:
            raise self.error(
                f"{self.where} refused a replication connection for user "
                f"`{self.endpoint.user}`: {first_line(exc)}",
                "the user needs the REPLICATION attribute (`ALTER ROLE ... REPLICATION`) and "
                "pg_hba.conf must allow it; nothing was written",
            ) from None
        command = f"CREATE_REPLICATION_SLOT {_quote(name)} LOGICAL pgoutput EXPORT_SNAPSHOT"
        result = replication.pgconn.exec_(command.encode())
        if result.error_message:
            replication.close()
            raise self.error(
                f"{self.where} could not create replication slot `{name}`: "
                f"{result.error_message.decode(errors='replace').strip()}",
                "free a slot (`max_replication_slots`) or give the source another `slot`",
            )
        lsn = lsn_number(result.get_value(0, 1).decode())
        return replication, lsn, result.get_value(0, 2).decode()

    def peek(self, slot: str, publication: str, limit: int) -> list[bytes]:
        rows = self.query(_PEEK_SQL, [slot, limit, publication],
                          doing=f"decoding replication slot `{slot}`")
        return [bytes(r[0]) for r in rows]

    def wal_since(self, lsn: int) -> int:
        """Bytes of WAL the server wrote after `lsn`."""
        return int(self.query("SELECT (pg_current_wal_lsn() - %s::pg_lsn)::bigint",
                              [lsn_text(lsn)], doing="reading the WAL position")[0][0])

    def heartbeat(self) -> None:
        """A tiny transaction holding only a logical message: a position the slot decodes
        (and can be confirmed to) while the captured tables do not change."""
        self.query("SELECT pg_logical_emit_message(true, %s, 'heartbeat')::text",
                   [HEARTBEAT_PREFIX], doing="writing a heartbeat message")

    def advance(self, slot: str, lsn: int) -> None:
        self.query("SELECT pg_replication_slot_advance(%s, %s::pg_lsn)", [slot, lsn_text(lsn)],
                   doing=f"confirming replication slot `{slot}`")
