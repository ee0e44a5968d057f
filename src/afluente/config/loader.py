"""Find and load a project: `afluente.yml` + environment overrides → a validated Project."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from afluente.config.interpolate import interpolate
from afluente.config.schema import EnvironmentConfig, ProjectConfig
from afluente.config.seeds import find_seeds, with_seeds
from afluente.config.validation import validate_with_locations
from afluente.config.yaml_lines import LocatedYaml, load_located_yaml
from afluente.errors import ConfigError, Location

PROJECT_FILE = "afluente.yml"
STATE_DIR = ".afluente"


@dataclass(frozen=True)
class Project:
    """A loaded project: its folder, its config (environment applied) and source lines."""

    root: Path
    config: ProjectConfig
    environment: str | None
    source_lines: dict[str, int]
    doc: LocatedYaml | None = None
    seed_files: dict[str, Path] = field(default_factory=dict)  # seeds/*.csv sources

    @property
    def file(self) -> Path:
        return self.root / PROJECT_FILE

    @property
    def models_dir(self) -> Path:
        return self.root / self.config.models.path

    @property
    def warehouse_uri(self) -> str:
        """Warehouse location: a URI (s3://...) as is, a path resolved against the project."""
        location = self.config.warehouse
        if "://" in location:
            return location
        return str((self.root / location).resolve())

    @property
    def cache_dir(self) -> Path:
        """Where afluente keeps derived, disposable data (parse caches)."""
        return self.root / STATE_DIR / "cache"

    @property
    def state_url(self) -> str:
        if self.config.state:
            return self.config.state
        return f"sqlite:///{(self.root / STATE_DIR / 'state.db').resolve()}"

    def source_location(self, name: str) -> Location:
        if name in self.seed_files:
            return Location(self.seed_files[name])
        return Location(self.file, self.source_lines.get(name))

    def source_doc(self) -> LocatedYaml:
        """The project file's key lines, for errors about sources."""
        if self.doc is None:
            return LocatedYaml(data=None, file=self.file, lines={})
        return self.doc

    def resolve_path(self, path: str) -> str:
        """A path from config, resolved against the project folder unless it is a URI."""
        if "://" in path or os.path.isabs(path):
            return path
        return str(self.root / path)


def find_project_root(start: Path) -> Path:
    """`start` or the nearest parent holding `afluente.yml`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    raise ConfigError(
        f"no {PROJECT_FILE} found in {start} or any parent folder",
        hint="run inside a project, pass --project DIR, or create one with `afluente init DIR`",
    )


def load_project(path: Path | str = ".", environment: str | None = None) -> Project:
    """Load and validate the project at (or above) `path`."""
    root = find_project_root(Path(path))
    file = root / PROJECT_FILE
    doc = load_located_yaml(file.read_text(encoding="utf-8"), file)
    if not isinstance(doc.data, dict):
        raise ConfigError(
            "the project file must be a mapping of keys",
            location=Location(file, 1),
            hint="start with `name: my_project`",
        )
    data = interpolate(doc, keep_raw=("environments",))
    config = validate_with_locations(ProjectConfig, data, doc)
    env_name = environment or os.environ.get("AFLUENTE_ENV") or config.default_environment
    config = _apply_environment(config, env_name, doc, data)
    lines = {name: doc.lines.get(("sources", name), 1) for name in config.sources}
    seeds = find_seeds(root, config)
    return Project(
        root=root, config=with_seeds(config, seeds, root), environment=env_name,
        source_lines=lines, doc=doc, seed_files=seeds,
    )


def _apply_environment(
    config: ProjectConfig, name: str | None, doc: LocatedYaml, data: dict[str, Any]
) -> ProjectConfig:
    if name is None:
        return config
    if name not in config.environments:
        choices = ", ".join(sorted(config.environments)) or "(none declared)"
        raise ConfigError(
            f"unknown environment `{name}`",
            location=doc.location(("environments",)),
            hint=f"declared environments: {choices}",
        )
    raw = interpolate(doc, at=("environments", name))
    env = validate_with_locations(EnvironmentConfig, raw, subdoc(doc, ("environments", name)))
    merged = dict(data)
    for key in ("warehouse", "state"):
        if getattr(env, key) is not None:
            merged[key] = getattr(env, key)
    if env.engine is not None:
        merged["engine"] = env.engine.model_dump()
    if env.engines:
        merged["engines"] = {**{n: e.model_dump() for n, e in config.engines.items()},
                             **{n: e.model_dump() for n, e in env.engines.items()}}
    merged["vars"] = {**config.vars, **env.vars}
    return validate_with_locations(ProjectConfig, merged, doc)


def subdoc(doc: LocatedYaml, at: tuple[str, ...]) -> LocatedYaml:
    """A view of part of `doc` whose key paths are relative to `at`."""
    lines = {path[len(at) :]: line for path, line in doc.lines.items() if path[: len(at)] == at}
    return LocatedYaml(data=None, file=doc.file, lines=lines, line_offset=doc.line_offset)
