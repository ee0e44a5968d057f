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
from afluente.config.schema import EngineConfig
from afluente.config.yaml_lines import KeyPath
from afluente.engines.protocol import Capability, Engine
from afluente.engines.settings import DuckDBSettings, EngineSettings, SparkSettings
from afluente.errors import ConfigError, Location

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


def factory_for(
    engine_type: str, project: Project | None = None, path: KeyPath | None = None
) -> EngineFactory:
    """The engine class registered for `engine_type`; an unknown type names the line."""
    if engine_type in BUILTIN:
        module, _, attribute = BUILTIN[engine_type][1].partition(":")
        builtin: EngineFactory = getattr(import_module(module), attribute)
        return builtin
    plugin = _plugins().get(engine_type)
    if plugin is None:
        close = difflib.get_close_matches(engine_type, engine_types(), n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        where = path if path is not None else _engine_path(project) if project else None
        location = project.source_doc().location((*where, "type")) \
            if project and where else None
        raise ConfigError(
            f"no engine of type `{engine_type}`",
            location=location,
            hint=hint + f"available engines: {', '.join(engine_types())} (a plugin adds one "
            f"through the `{ENTRY_POINT_GROUP}` entry-point group)",
        )
    factory: EngineFactory = plugin.load()
    return factory


def engine_settings(project: Project, choice: str | None = None) -> EngineSettings:
    """The settings of the engine `choice` names (a model's `engine:`; None: the project's
    `engine:`), validated by its engine's own settings model (file:line)."""
    label = engine_label(project, choice)
    if label in project.config.engines:
        return _validated(project, project.config.engines[label], _engines_path(project, label))
    if label == project.config.engine.type:
        return _validated(project, project.config.engine, _engine_path(project))
    return _validated(project, EngineConfig(type=label), None)


def _validated(project: Project, spec: EngineConfig, path: KeyPath | None) -> EngineSettings:
    known = BUILTIN.get(spec.type)  # a built-in's settings load without its engine
    model = known[0] if known else factory_for(spec.type, project, path).config_model
    data = {"type": spec.type, **spec.extra}
    return validate_with_locations(model, data, project.source_doc(), path or ())


def engine_label(project: Project, choice: str | None, location: Location | None = None) -> str:
    """Which engine `choice` (a model's `engine:`) names: an engine of `engines:` by its
    name; else by type, the project's `engine:` when of that type, or the one engine of
    `engines:` of that type, or that type with its default settings. None is the project's
    `engine:`. An unknown or ambiguous choice is a ConfigError at `location`."""
    engines, default = project.config.engines, project.config.engine.type
    if choice is None or choice == default:
        return default
    if choice in engines:
        return choice
    of_type = sorted(name for name, spec in engines.items() if spec.type == choice)
    if len(of_type) > 1:
        raise ConfigError(
            f"`engine: {choice}` is ambiguous: engines {', '.join(of_type)} are all of type "
            f"`{choice}`", location=location, hint="name one of them instead of the type")
    if of_type or choice in engine_types():
        return of_type[0] if of_type else choice
    close = difflib.get_close_matches(choice, known_engines(project), n=1)
    hint = f"did you mean `{close[0]}`? " if close else ""
    raise ConfigError(
        f"no engine named `{choice}`",
        location=location,
        hint=hint + f"known engines: {', '.join(known_engines(project))} (name more "
        "under `engines:` in afluente.yml)",
    )


def known_engines(project: Project) -> list[str]:
    """What a model's `engine:` may say: the names under `engines:`, then engine types."""
    names = sorted(project.config.engines)
    return names + [t for t in engine_types() if t not in names]


def _engine_path(project: Project) -> KeyPath:
    """Where the engine in force is declared: the selected environment's `engine:` when it
    overrides the project's."""
    env = project.environment
    doc = project.source_doc()
    if env is not None and ("environments", env, "engine") in doc.lines:
        return ("environments", env, "engine")
    return ("engine",)


def _engines_path(project: Project, name: str) -> KeyPath:
    """Where engine `name` of `engines:` is declared: the selected environment's `engines:`
    when it overrides or adds it."""
    env = project.environment
    if env is not None and ("environments", env, "engines", name) in project.source_doc().lines:
        return ("environments", env, "engines", name)
    return ("engines", name)


def engine_capabilities(project: Project, choice: str | None = None) -> frozenset[Capability]:
    """What the engine `choice` names can do (from its class: no engine is started)."""
    label = engine_label(project, choice)
    named = project.config.engines.get(label)
    engine_type = named.type if named else label
    path = ("engines", label) if named else None
    capabilities: frozenset[Capability] = factory_for(engine_type, project, path).capabilities
    return capabilities


def engine_frame(project: Project, choice: str | None = None) -> str | None:
    """The frame type the engine `choice` names hands Python models (`duckdb`, `spark`;
    None for an engine that does not say)."""
    label = engine_label(project, choice)
    named = project.config.engines.get(label)
    engine_type = named.type if named else label
    path = ("engines", label) if named else None
    frame = getattr(factory_for(engine_type, project, path), "native_frame", None)
    return frame if isinstance(frame, str) else None


def validate_engine(project: Project) -> None:
    """Check the `engine:` block and each of `engines:` (raises a ConfigError naming the
    line)."""
    engine_settings(project)
    default = project.config.engine.type
    if default in project.config.engines:
        raise ConfigError(
            f"the engine name `{default}` is the type of the project's `engine:`, so a "
            "model's `engine: " + default + "` would be ambiguous",
            location=project.source_doc().location(("engines", default)),
            hint="give that engine another name under `engines:`",
        )
    for name in project.config.engines:
        engine_settings(project, name)


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
