"""Which connector reads which source type: built-ins plus the `afluente.connectors`
entry-point group, where third parties register `type: name` → a connector class."""

from __future__ import annotations

import difflib
from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from afluente.config import Project, SourceBase, validate_with_locations
from afluente.connectors.protocol import Connector, ConnectorFactory
from afluente.errors import ConfigError

ENTRY_POINT_GROUP = "afluente.connectors"

BUILTIN: dict[str, str] = {
    "files": "afluente.connectors.files:FilesConnector",
    "postgres": "afluente.connectors.database:PostgresConnector",
    "mysql": "afluente.connectors.database:MySqlConnector",
    "mariadb": "afluente.connectors.database:MySqlConnector",
    "rest": "afluente.connectors.rest:RestConnector",
    "seed": "afluente.connectors.seed:SeedConnector",
    "kafka": "afluente.connectors.kafka:KafkaConnector",
    "postgres_cdc": "afluente.connectors.postgres_cdc:PostgresCdcConnector",
}


def _load(target: str) -> ConnectorFactory:
    module, _, attribute = target.partition(":")
    factory: ConnectorFactory = getattr(import_module(module), attribute)
    return factory


@cache
def _plugins() -> dict[str, Any]:
    return {entry.name: entry for entry in entry_points(group=ENTRY_POINT_GROUP)}


def source_types() -> list[str]:
    return sorted(set(BUILTIN) | set(_plugins()))


def factory_for(project: Project, name: str) -> ConnectorFactory:
    source = project.config.sources[name]
    if source.type in BUILTIN:
        return _load(BUILTIN[source.type])
    plugin = _plugins().get(source.type)
    if plugin is None:
        close = difflib.get_close_matches(source.type, source_types(), n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        raise ConfigError(
            f"no connector for source type `{source.type}` (source `{name}`)",
            location=project.source_doc().location(("sources", name, "type")),
            hint=hint + f"available types: {', '.join(source_types())}",
        )
    factory: ConnectorFactory = plugin.load()
    return factory


def source_config(project: Project, name: str) -> SourceBase:
    """The source's keys validated by its connector's own config model (file:line errors)."""
    source = project.config.sources[name]
    model = factory_for(project, name).config_model
    data = source.model_dump(exclude_unset=True)
    data.update(source.extra)
    return validate_with_locations(model, data, project.source_doc(), ("sources", name))


def connector_for(project: Project, name: str) -> Connector:
    """The connector for source `name`, built from its validated config."""
    config = source_config(project, name)
    factory = factory_for(project, name)
    return factory(name, config, project.root, project.source_location(name))


def validate_sources(project: Project) -> None:
    """Validate every source's connector-specific keys (raises the first ConfigError)."""
    for name in project.config.sources:
        source_config(project, name)
