"""Compute engines behind one protocol, chosen by `engine: {type: ...}`: DuckDB is built in;
plugins add more through the `afluente.engines` entry-point group (`engines/registry.py`)."""

from afluente.engines.protocol import Capability, Engine
from afluente.engines.registry import (
    create_engine,
    engine_settings,
    engine_types,
    project_engine,
    validate_engine,
)
from afluente.engines.settings import DuckDBSettings, EngineSettings, SparkSettings
from afluente.streams import ResultStream

__all__ = [
    "Capability",
    "DuckDBSettings",
    "Engine",
    "EngineSettings",
    "ResultStream",
    "SparkSettings",
    "create_engine",
    "engine_settings",
    "engine_types",
    "project_engine",
    "validate_engine",
]
