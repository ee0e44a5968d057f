"""Project configuration: `afluente.yml`, loaded with line numbers and validated by pydantic."""

from afluente.config.loader import PROJECT_FILE, Project, find_project_root, load_project
from afluente.config.schema import (
    EngineConfig,
    ProjectConfig,
    SchemaEvolution,
    SinkSpec,
    SourceBase,
    SourceSpec,
)
from afluente.config.validation import validate_with_locations
from afluente.config.yaml_lines import LocatedYaml

__all__ = [
    "PROJECT_FILE",
    "EngineConfig",
    "LocatedYaml",
    "Project",
    "ProjectConfig",
    "SchemaEvolution",
    "SinkSpec",
    "SourceBase",
    "SourceSpec",
    "find_project_root",
    "load_project",
    "validate_with_locations",
]
