"""What differs between database servers: the driver, quoting, error codes and the mapping of
column types to Arrow. Each server gets one `Dialect` (see `postgres.py`, `mysql.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import pyarrow as pa

from afluente.connectors.database.endpoint import Endpoint

Failure = Literal["unreachable", "auth", "database", "sql"]

# connectorx reads decimals as decimal128(38, 10): wider ones do not fit, more digits are lost
CX_DECIMAL_SCALE = 10
CX_DECIMAL_INTEGER_DIGITS = 28


@dataclass(frozen=True)
class Projection:
    """How one column is selected (`expression AS name`) and the Arrow type it lands as
    (None: the type the reader produces, normalised)."""

    name: str
    expression: str
    arrow: pa.DataType | None


def fits_reader_decimal(precision: int | None, scale: int | None) -> bool:
    """Whether a DECIMAL(precision, scale) goes through the reader without loss."""
    if not precision or scale is None:
        return False
    return scale <= CX_DECIMAL_SCALE and precision - scale <= CX_DECIMAL_INTEGER_DIGITS


class Dialect(Protocol):
    label: str  # PostgreSQL | MySQL/MariaDB
    scheme: str  # postgresql | mysql
    default_port: int
    naive_timestamps: bool  # compare timestamps without offsets (MySQL)
    pre_execution: str | None  # session setup for the reader

    def connect(self, endpoint: Endpoint, timeout: int) -> Any:
        """A DB-API connection (autocommit) for metadata queries."""

    def quote(self, identifier: str) -> str: ...

    def classify(self, exc: BaseException) -> Failure | None:
        """Which kind of failure a driver error is (None: not a driver error)."""

    def project(self, description: Sequence[Any]) -> list[Projection]:
        """The select list and Arrow types for a cursor's `description`."""

    def signature_sql(self, relation: str) -> str | None:
        """A cheap query whose single row changes when a table's rows change."""


def quote_relation(dialect: Dialect, name: str) -> str:
    """`schema.table` → each part quoted; a name already quoted is kept as written."""
    if name.startswith(('"', "`")):
        return name
    return ".".join(dialect.quote(part) for part in name.split(".", 1))
