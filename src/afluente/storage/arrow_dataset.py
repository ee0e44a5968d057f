"""Arrow datasets over Delta tables whose file reads never call back into Python.

`DeltaTable.to_pyarrow_dataset()` reads files through deltalake's Python filesystem handler
(a `pyarrow.fs.PyFileSystem`): every buffer it reads is a Python object. A scan (DuckDB over
the dataset, `Dataset.head`) ends on Arrow's worker threads, which drop the scan's read-ahead
state, and with it those buffers, some time after the caller got its rows. When the
interpreter is already shutting down by then, freeing a Python buffer from such a thread
kills the thread inside a C++ destructor: the process aborts with `terminate called without
an active exception` after a correct result (about 1 short `query` or `show` in 200).

For tables on the local disk the dataset reads through Arrow's own local filesystem instead:
no Python object is involved in a scan, so its teardown is safe at any time (and reads skip
the GIL). Object-store tables keep deltalake's handler, which holds their credentials:
the options the table was opened with, else the object-store settings of the environment
(`AWS_*`, `AZURE_*`, `GOOGLE_*`), given to the handler explicitly. A pickled dataset (the
Spark engine ships it to executors, `engines/spark_remote_files.py`) then reaches the same
store in a process whose environment lacks them.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlparse

import pyarrow.dataset as pads
from deltalake import DeltaTable
from deltalake.fs import DeltaStorageHandler
from pyarrow.fs import LocalFileSystem, PyFileSystem, SubTreeFileSystem

OBJECT_STORE_ENVIRONMENT = ("AWS_", "AZURE_", "GOOGLE_")


def delta_dataset(table: DeltaTable, storage_options: dict[str, str] | None = None
                  ) -> pads.Dataset:
    """An Arrow dataset over `table` at its loaded version (see the module docstring)."""
    root = local_root(table.table_uri)
    if root is None:
        options = storage_options or {k: v for k, v in os.environ.items()
                                      if k.startswith(OBJECT_STORE_ENVIRONMENT)}
        handler = DeltaStorageHandler(table.table_uri, options=options)
        return table.to_pyarrow_dataset(filesystem=PyFileSystem(handler))
    return table.to_pyarrow_dataset(filesystem=SubTreeFileSystem(root, LocalFileSystem()))


def local_root(table_uri: str) -> str | None:
    """The folder of a table on the local disk (`file://` URI or a bare path), else None."""
    parsed = urlparse(table_uri)
    if parsed.scheme == "file":
        return unquote(parsed.path).rstrip("/") or "/"
    if parsed.scheme == "":
        return table_uri.rstrip("/") or "/"
    return None
