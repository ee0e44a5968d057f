"""Connectors: read declared sources as Arrow, registered by source type."""

from afluente.connectors.protocol import Connector, IngestContext, connector_for

__all__ = ["Connector", "IngestContext", "connector_for"]
