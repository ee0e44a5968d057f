"""The bounds of the numbers a request may carry: ids, versions and offsets are stored and
compared as signed 64-bit integers (SQLite, DuckDB, Delta), so a larger one is a 422 for
the request, not an overflow in the store."""

from __future__ import annotations

INT64_MAX = 2**63 - 1
