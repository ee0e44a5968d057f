"""Which sink publishes which `type:`: built-ins plus the `afluente.sinks` entry-point group.

It also resolves a sink's `tables` against the model graph, so a typo in a table name is an
error at the line that wrote it, with the close matches.
"""

from __future__ import annotations

import difflib
from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from afluente.config import Project, validate_with_locations
from afluente.errors import ConfigError, Location, ModelError
from afluente.model import Graph, TableRef
from afluente.sinks.config import SinkBase, SinkEntry
from afluente.sinks.protocol import Sink, SinkFactory, SinkTable

ENTRY_POINT_GROUP = "afluente.sinks"

BUILTIN: dict[str, str] = {
    "postgres": "afluente.sinks.postgres:PostgresSink",
}


@cache
def _plugins() -> dict[str, Any]:
    return {entry.name: entry for entry in entry_points(group=ENTRY_POINT_GROUP)}


def sink_types() -> list[str]:
    return sorted(set(BUILTIN) | set(_plugins()))


def sink_location(project: Project, name: str, *path: str | int) -> Location:
    return project.source_doc().location(("sinks", name, *path))


def factory_for(project: Project, name: str) -> SinkFactory:
    kind = project.config.sinks[name].type
    if kind in BUILTIN:
        module, _, attribute = BUILTIN[kind].partition(":")
        factory: SinkFactory = getattr(import_module(module), attribute)
        return factory
    plugin = _plugins().get(kind)
    if plugin is None:
        close = difflib.get_close_matches(kind, sink_types(), n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        raise ConfigError(
            f"no sink for type `{kind}` (sink `{name}`)",
            location=sink_location(project, name, "type"),
            hint=hint + f"available types: {', '.join(sink_types())}",
        )
    loaded: SinkFactory = plugin.load()
    return loaded


def sink_names(project: Project, wanted: str | None = None) -> list[str]:
    """Every declared sink, or just `wanted` (an error with close matches if unknown)."""
    names = list(project.config.sinks)
    if wanted is None:
        return names
    if wanted not in project.config.sinks:
        close = difflib.get_close_matches(wanted, names, n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        raise ConfigError(
            f"unknown sink `{wanted}`",
            location=project.source_doc().location(("sinks",)),
            hint=hint + f"declared sinks: {', '.join(names) or '(none)'}",
        )
    return [wanted]


def sink_config(project: Project, name: str) -> SinkBase:
    """The sink's keys validated by its type's own config model (file:line errors)."""
    spec = project.config.sinks[name]
    data = spec.model_dump(exclude_unset=True)
    data.update(spec.extra)
    model = factory_for(project, name).config_model
    return validate_with_locations(model, data, project.source_doc(), ("sinks", name))


def sink_for(project: Project, name: str) -> Sink:
    config = sink_config(project, name)
    return factory_for(project, name)(name, config, sink_location(project, name))


def sink_tables(project: Project, graph: Graph, name: str) -> list[SinkTable]:
    """The sink's tables resolved against the graph; unknown ones are ConfigErrors."""
    config = sink_config(project, name)
    return [_resolve(project, graph, name, entry) for entry in config.entries()]


def _resolve(project: Project, graph: Graph, name: str, entry: SinkEntry) -> SinkTable:
    location = sink_location(project, name, *entry.path)
    try:
        ref = TableRef.parse(entry.text)
    except ModelError as error:
        raise ConfigError(f"sink `{name}`: {error.message}", location=location,
                          hint=error.hint) from None
    if ref not in graph.nodes:
        raise ConfigError(
            f"sink `{name}` publishes unknown table `{entry.text}`",
            location=location,
            hint=graph.suggest(str(ref)),
        )
    return SinkTable(ref, entry.options, location)


def validate_sinks(project: Project, graph: Graph) -> None:
    """Validate every sink's keys and tables (raises the first ConfigError)."""
    for name in project.config.sinks:
        sink_tables(project, graph, name)
