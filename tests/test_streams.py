"""Shared stream and connection helpers."""

from __future__ import annotations

from afluente.engines.duckdb_connection import duckdb_connect


def test_duckdb_connections_never_print_a_progress_bar() -> None:
    # DuckDB prints its progress bar to stdout for queries over two seconds, which would
    # corrupt the JSON of `afluente --json ...`: every connection afluente opens turns it off
    connection = duckdb_connect()
    row = connection.execute("SELECT current_setting('enable_progress_bar')").fetchone()
    assert row == (False,)
