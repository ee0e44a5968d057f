"""The connector protocol and registry: sources are read by a connector chosen by type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from afluente.errors import ConfigError, Location
from afluente.streams import ResultStream

ENTRY_POINT_GROUP = "afluente.connectors"


@dataclass(frozen=True)
class IngestContext:
    """What a connector stamps on each bronze row."""

    run_id: str
    ingested_at: datetime


class Connector(Protocol):
    """Reads one declared source as Arrow."""

    def snapshot(self) -> dict[str, Any]:
        """A small description of the source's current state; equal snapshots, same data."""

    def read(self, context: IngestContext) -> ResultStream:
        """The source's rows, with bronze metadata columns, as a stream."""


class ConnectorFactory(Protocol):
    def __call__(
        self, name: str, config: Any, root: Path, location: Location
    ) -> Connector: ...


def _builtin() -> dict[str, ConnectorFactory]:
    from afluente.connectors.files import FilesConnector

    return {"files": FilesConnector}


def connector_for(name: str, config: Any, root: Path, location: Location) -> Connector:
    """Build the connector registered for `config.type` (built-in or by entry point)."""
    registry = _builtin()
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        registry.setdefault(entry.name, entry.load())
    factory = registry.get(config.type)
    if factory is None:
        raise ConfigError(
            f"no connector for source type `{config.type}` (source `{name}`)",
            location=location,
            hint=f"available types: {', '.join(sorted(registry))}",
        )
    return factory(name, config, root, location)
