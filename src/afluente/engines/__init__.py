"""Compute engines behind one protocol. DuckDB is the default; Spark will follow."""

from collections.abc import Mapping
from typing import Any

from afluente.engines.protocol import Capability, Engine
from afluente.streams import ResultStream

__all__ = ["Capability", "Engine", "ResultStream", "create_engine"]


def create_engine(
    kind: str,
    threads: int | None = None,
    memory_limit: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> Engine:
    """The engine named in `afluente.yml`, with the project's `vars` set."""
    from afluente.engines.duckdb_engine import DuckDBEngine

    if kind != "duckdb":
        from afluente.errors import ConfigError

        raise ConfigError(f"unknown engine `{kind}`", hint="supported engines: duckdb")
    engine = DuckDBEngine(threads=threads, memory_limit=memory_limit)
    engine.set_variables(variables or {})
    return engine
