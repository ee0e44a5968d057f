"""Files that cannot be read at all, kept aside as files: the batch's other files land.

A quarantined file lands as one bronze row: data columns null, `_source` the file, and
`_rescued_data` = `{"_source", "_error"}` (the reason). Each format finds them where it can
cheaply: csv/tsv by their first line, parquet/orc/avro/xlsx by their footer, header or sheet,
json/ndjson by parsing their documents once. Formats the engine reads get these rows from
the engine's scan (`FileScan`); the formats read in Python get them here.
"""

from __future__ import annotations

import json

import pyarrow as pa

SOURCE = "_source"
RESCUED = "_rescued_data"


def quarantine_batch(schema: pa.Schema, name: str, reason: str) -> pa.RecordBatch:
    """One quarantined file's row in `schema` (which has `_source` and `_rescued_data`)."""
    text = json.dumps({"_source": name, "_error": reason}, separators=(",", ":"),
                      ensure_ascii=False)
    values = {SOURCE: name, RESCUED: text}
    arrays = [pa.array([values.get(f.name)], f.type) for f in schema]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
