"""Relational database sources: PostgreSQL and MySQL/MariaDB tables or queries into bronze.

`type: postgres` and `type: mysql` (alias `mariadb`) read a `source_table` or a `query`, in
chunks of Arrow record batches (connectorx), either as a whole-table reload every run
(bronze overwritten, skipped by `plan` when a cheap signature is unchanged) or incrementally
by a cursor column with a watermark committed with the rows. See docs/sources/databases.md.
"""

from __future__ import annotations

from afluente.connectors.database.config import (
    DatabaseSource,
    Incremental,
    MySqlSource,
    PostgresSource,
)
from afluente.connectors.database.connector import DatabaseConnector
from afluente.connectors.database.mysql import MySqlDialect
from afluente.connectors.database.postgres import PostgresDialect

__all__ = [
    "DatabaseConnector",
    "DatabaseSource",
    "Incremental",
    "MySqlConnector",
    "MySqlSource",
    "PostgresConnector",
    "PostgresSource",
]


class PostgresConnector(DatabaseConnector):
    """`type: postgres`."""

    config_model = PostgresSource
    dialect = PostgresDialect()


class MySqlConnector(DatabaseConnector):
    """`type: mysql` / `type: mariadb`."""

    config_model = MySqlSource
    dialect = MySqlDialect()
