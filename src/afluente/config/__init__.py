"""Project configuration: `afluente.yml`, loaded with line numbers and validated by pydantic."""

from afluente.config.loader import PROJECT_FILE, Project, find_project_root, load_project
from afluente.config.schema import (
    CsvOptions,
    EngineConfig,
    FilesSource,
    ProjectConfig,
    SourceConfig,
)

__all__ = [
    "PROJECT_FILE",
    "CsvOptions",
    "EngineConfig",
    "FilesSource",
    "Project",
    "ProjectConfig",
    "SourceConfig",
    "find_project_root",
    "load_project",
]
