"""Files that cannot be read at all, kept aside as files: the batch's other files land.

A quarantined file lands as one bronze row: data columns null, `_source` the file, and
`_rescued_data` = `{"_source", "_error"}` (the reason). Each format finds them where it can
cheaply: csv/tsv by their first line, parquet/orc/avro/xlsx by their footer, header or sheet,
json/ndjson by parsing their documents once.
"""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa

SOURCE = "_source"
RESCUED = "_rescued_data"
TABLE = "_afluente_quarantined"


def quarantine_sql(connection: duckdb.DuckDBPyConnection, quarantined: dict[str, str]) -> str:
    """SQL of the quarantined files' rows (`_source`, `_rescued_data`), from a temporary
    table made on `connection`."""
    connection.execute(f"CREATE OR REPLACE TEMP TABLE {TABLE} (name VARCHAR, reason VARCHAR)")
    if quarantined:
        connection.executemany(f"INSERT INTO {TABLE} VALUES (?, ?)", list(quarantined.items()))
    return (
        f"SELECT name AS {SOURCE}, json_object('_source', name, '_error', reason)::VARCHAR "
        f"AS {RESCUED} FROM {TABLE}"
    )


def quarantine_batch(schema: pa.Schema, name: str, reason: str) -> pa.RecordBatch:
    """One quarantined file's row in `schema` (which has `_source` and `_rescued_data`)."""
    text = json.dumps({"_source": name, "_error": reason}, separators=(",", ":"),
                      ensure_ascii=False)
    values = {SOURCE: name, RESCUED: text}
    arrays = [pa.array([values.get(f.name)], f.type) for f in schema]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
