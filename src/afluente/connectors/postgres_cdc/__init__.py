"""`type: postgres_cdc` sources: PostgreSQL changes from the write-ahead log into bronze.

A logical replication slot (the built-in `pgoutput` plugin, through a publication of the
captured tables) gives an initial snapshot, then every insert, update, delete and truncate as
a change row, exactly once: the LSN is committed with the rows, the slot confirmed after.
psycopg is imported only when a source is read (`pip install 'afluente[postgres]'`). See
docs/streaming.md.
"""

from afluente.connectors.postgres_cdc.config import PostgresCdcSource
from afluente.connectors.postgres_cdc.connector import PostgresCdcConnector

__all__ = ["PostgresCdcConnector", "PostgresCdcSource"]
