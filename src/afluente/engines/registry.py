"""Which engine runs a project: built-ins plus the `afluente.engines` entry-point group,
where third parties register `type: name` → an engine class whose `config_model` validates
the keys of `engine:` and whose constructor takes the validated settings."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from functools import cache
from importlib import import_module
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Protocol

from afluente.config import Project, validate_with_locations
from afluente.config.yaml_lines import KeyPath
from afluente.engines.protocol import Capability, Engine
from afluente.engines.settings import DuckDBSettings, EngineSettings, SparkSettings
from afluente.errors import ConfigError

ENTRY_POINT_GROUP = "afluente.engines"

BUILTIN: dict[str, tuple[type[EngineSettings], str]] = {
    "duckdb": (DuckDBSettings, "afluente.engines.duckdb_engine:DuckDBEngine"),
    "spark": (SparkSettings, "afluente.engines.spark_engine:SparkEngine"),
}


class EngineFactory(Protocol):
    """An engine class: its settings model, and a constructor taking validated settings."""

    config_model: type[EngineSettings]
    capabilities: frozenset[Capability]

    def __call__(self, settings: Any) -> Engine: ...


@cache
def _plugins() -> dict[str, EntryPoint]:
    return {entry.name: entry for entry in entry_points(group=ENTRY_POINT_GROUP)}


def engine_types() -> list[str]:
    return sorted(set(BUILTIN) | set(_plugins()))


def factory_for(engine_type: str, project: Project | None = None) -> EngineFactory:
    """The engine class registered for `engine_type`; an unknown type names the line."""
    if engine_type in BUILTIN:
        module, _, attribute = BUILTIN[engine_type][1].partition(":")
        builtin: EngineFactory = getattr(import_module(module), attribute)
        return builtin
    plugin = _plugins().get(engine_type)
    if plugin is None:
        close = difflib.get_close_matches(engine_type, engine_types(), n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        location = project.source_doc().location((*_engine_path(project), "type")) \
            if project else None
        raise ConfigError(
            f"no engine of type `{engine_type}`",
            location=location,
            hint=hint + f"available engines: {', '.join(engine_types())} (a plugin adds one "
            f"through the `{ENTRY_POINT_GROUP}` entry-point group)",
        )
    factory: EngineFactory = plugin.load()
    return factory


def engine_settings(project: Project) -> EngineSettings:
    """The project's `engine:` validated by its engine's own settings model (file:line)."""
    spec = project.config.engine
    known = BUILTIN.get(spec.type)  # a built-in's settings load without its engine
    model = known[0] if known else factory_for(spec.type, project).config_model
    data = {"type": spec.type, **spec.extra}
    return validate_with_locations(model, data, project.source_doc(), _engine_path(project))


def _engine_path(project: Project) -> KeyPath:
    """Where the engine in force is declared: the selected environment's `engine:` when it
    overrides the project's."""
    env = project.environment
    doc = project.source_doc()
    if env is not None and ("environments", env, "engine") in doc.lines:
        return ("environments", env, "engine")
    return ("engine",)


def engine_capabilities(project: Project) -> frozenset[Capability]:
    """What the project's engine can do (from its class: no engine is started)."""
    capabilities: frozenset[Capability] = factory_for(
        project.config.engine.type, project).capabilities
    return capabilities


def validate_engine(project: Project) -> None:
    """Check the `engine:` block (raises a ConfigError naming the line)."""
    engine_settings(project)


def create_engine(
    settings: EngineSettings, variables: Mapping[str, Any] | None = None
) -> Engine:
    """An engine of `settings.type` with the project's `vars` set."""
    engine = factory_for(settings.type)(settings)
    engine.set_variables(variables or {})
    return engine


def project_engine(project: Project) -> Engine:
    """A new engine as the project's `engine:` declares it, with its `vars` set."""
    return create_engine(engine_settings(project), project.config.vars)
