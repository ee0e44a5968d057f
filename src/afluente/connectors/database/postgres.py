"""PostgreSQL: psycopg for metadata, connectorx (binary protocol) for the rows.

Column types map from their OIDs; a type the reader cannot carry exactly (interval, time,
inet, enums, unbounded or very wide numeric, arrays of those) is read as its text form,
as are json, jsonb and uuid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from afluente.connectors.database.dialect import Failure, Projection, fits_reader_decimal
from afluente.connectors.database.endpoint import Endpoint

_NUMERIC = 1700
ARROW_TYPES: dict[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    700: pa.float32(),
    701: pa.float64(),
    25: pa.string(),
    1043: pa.string(),
    1042: pa.string(),
    19: pa.string(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
    17: pa.binary(),
    1000: pa.list_(pa.bool_()),
    1005: pa.list_(pa.int16()),
    1007: pa.list_(pa.int32()),
    1016: pa.list_(pa.int64()),
    1021: pa.list_(pa.float32()),
    1022: pa.list_(pa.float64()),
    1009: pa.list_(pa.string()),
    1015: pa.list_(pa.string()),
}
_UNREACHABLE_STATES = ("08", "57P")
_AUTH_MESSAGES = ("authentication failed", "no pg_hba.conf entry", "role \"")


class PostgresDialect:
    label = "PostgreSQL"
    scheme = "postgresql"
    default_port = 5432
    naive_timestamps = False
    pre_execution: str | None = None

    def connect(self, endpoint: Endpoint, timeout: int) -> Any:
        import psycopg

        return psycopg.connect(
            host=endpoint.host, port=endpoint.port, user=endpoint.user,
            password=endpoint.password, dbname=endpoint.database,
            connect_timeout=timeout, autocommit=True,
        )

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def classify(self, exc: BaseException) -> Failure | None:
        import psycopg

        if not isinstance(exc, psycopg.Error):
            return None
        state = exc.sqlstate or ""
        text = str(exc)
        # a refused connection carries no SQLSTATE in psycopg: read the server's message
        if state in ("28P01", "28000") or any(m in text for m in _AUTH_MESSAGES):
            return "auth"
        if state == "3D000" or ("database" in text and "does not exist" in text):
            return "database"
        if isinstance(exc, psycopg.OperationalError) and (
            not state or state.startswith(_UNREACHABLE_STATES)
        ):
            return "unreachable"
        return "sql"

    def project(self, description: Sequence[Any]) -> list[Projection]:
        return [self._column(column) for column in description]

    def _column(self, column: Any) -> Projection:
        name, oid = column.name, column.type_code
        quoted = self.quote(name)
        if oid == _NUMERIC and fits_reader_decimal(column.precision, column.scale):
            return Projection(name, quoted, pa.decimal128(column.precision, column.scale))
        if oid in ARROW_TYPES:
            return Projection(name, quoted, ARROW_TYPES[oid])
        return Projection(name, f"{quoted}::text", pa.string())

    def signature_sql(self, relation: str) -> str | None:
        # a new or updated row gets a newer xmin; a deleted one lowers the count
        return f"SELECT count(*), max(xmin::text::bigint) FROM {relation}"
