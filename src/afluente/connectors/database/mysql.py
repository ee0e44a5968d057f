"""MySQL and MariaDB: pymysql for metadata, connectorx for the rows.

The reader's own types are kept (normalised: unsigned integers widen, `large_*` become plain
Arrow types); decimals get their declared precision; TIME, BIT and spatial columns and
decimals too wide for the reader are read as text. The session runs in UTC so TIMESTAMP
columns are UTC instants.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from afluente.connectors.database.dialect import Failure, Projection, fits_reader_decimal
from afluente.connectors.database.endpoint import Endpoint

_DECIMALS = (0, 246)
_TIMESTAMP = 7
_AS_TEXT = (11, 16, 255)  # TIME, BIT, GEOMETRY
_UNREACHABLE = (2002, 2003, 2005, 2006, 2013)
_AUTH = (1044, 1045, 1698)
_UNKNOWN_DATABASE = 1049


class MySqlDialect:
    label = "MySQL/MariaDB"
    scheme = "mysql"
    default_port = 3306
    naive_timestamps = True
    pre_execution: str | None = "SET time_zone = '+00:00'"

    def connect(self, endpoint: Endpoint, timeout: int) -> Any:
        import pymysql

        connection = pymysql.connect(
            host=endpoint.host, port=endpoint.port, user=endpoint.user,
            password=endpoint.password or "", database=endpoint.database,
            connect_timeout=timeout, autocommit=True,
        )
        with connection.cursor() as cursor:
            cursor.execute(self.pre_execution)
        return connection

    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    def classify(self, exc: BaseException) -> Failure | None:
        import pymysql

        if not isinstance(exc, pymysql.err.MySQLError):
            return None
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        if code in _AUTH:
            return "auth"
        if code == _UNKNOWN_DATABASE:
            return "database"
        if code in _UNREACHABLE or isinstance(exc, pymysql.err.InterfaceError):
            return "unreachable"
        return "sql"

    def project(self, description: Sequence[Any]) -> list[Projection]:
        return [self._column(column) for column in description]

    def _column(self, column: Sequence[Any]) -> Projection:
        name, code, size, scale = column[0], column[1], column[3], column[5]
        quoted = self.quote(name)
        if code in _DECIMALS:
            precision = size - 1 - (1 if scale else 0)  # display size: digits, sign, point
            if fits_reader_decimal(precision, scale):
                return Projection(name, quoted, pa.decimal128(precision, scale))
            return Projection(name, f"CAST({quoted} AS CHAR)", pa.string())
        if code in _AS_TEXT:
            return Projection(name, f"CAST({quoted} AS CHAR)", pa.string())
        if code == _TIMESTAMP:
            return Projection(name, quoted, pa.timestamp("us", tz="UTC"))
        return Projection(name, quoted, None)

    def signature_sql(self, relation: str) -> str | None:
        return f"CHECKSUM TABLE {relation}"
