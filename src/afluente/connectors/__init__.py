"""Connectors: read declared sources as Arrow, registered by source type."""

from afluente.connectors.protocol import (
    RESCUED_COLUMN,
    SOURCE_COLUMN,
    Connector,
    IngestContext,
    Ingestion,
    IngestStats,
    SourceCheck,
)
from afluente.connectors.registry import (
    ENTRY_POINT_GROUP,
    connector_for,
    source_config,
    source_types,
    validate_sources,
)
from afluente.streams import SourceQuery

__all__ = [
    "ENTRY_POINT_GROUP",
    "RESCUED_COLUMN",
    "SOURCE_COLUMN",
    "Connector",
    "IngestContext",
    "IngestStats",
    "Ingestion",
    "SourceCheck",
    "SourceQuery",
    "connector_for",
    "source_config",
    "source_types",
    "validate_sources",
]
