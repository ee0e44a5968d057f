"""The pydantic schema of `afluente.yml`. Unknown keys are errors (`extra="forbid"`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_LAYERS = ("bronze", "silver", "gold")
RESERVED_LAYERS = ("afluente",)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EngineConfig(_Strict):
    """Which compute engine runs the models, and its resources."""

    type: Literal["duckdb"] = "duckdb"
    threads: int | None = Field(default=None, ge=1)
    memory_limit: str | None = None


class CsvOptions(_Strict):
    """How to read delimited text files. Every column lands in bronze as text."""

    delimiter: str = ","
    header: bool = True
    quote: str = '"'
    escape: str = '"'
    encoding: Literal["utf-8", "utf-16", "latin-1"] = "utf-8"


class FilesSource(_Strict):
    """Files on disk matched by a glob, ingested into a bronze table."""

    type: Literal["files"]
    path: str
    format: Literal["csv", "json", "ndjson", "parquet"] = "csv"
    options: CsvOptions = CsvOptions()
    table: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()


SourceConfig = Annotated[FilesSource, Field(discriminator="type")]


class EnvironmentConfig(_Strict):
    """Overrides applied when `--env NAME` (or AFLUENTE_ENV) selects this environment."""

    warehouse: str | None = None
    state: str | None = None
    engine: EngineConfig | None = None
    vars: dict[str, Any] = Field(default_factory=dict)


class ProjectConfig(_Strict):
    """The whole `afluente.yml`."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    warehouse: str = "warehouse"
    engine: EngineConfig = EngineConfig()
    state: str | None = None
    models: str = "models"
    layers: tuple[str, ...] = DEFAULT_LAYERS
    vars: dict[str, Any] = Field(default_factory=dict)
    environments: dict[str, EnvironmentConfig] = Field(default_factory=dict)
    default_environment: str | None = None
    sources: dict[str, SourceConfig] = Field(default_factory=dict)

    @field_validator("engine", mode="before")
    @classmethod
    def _engine_shorthand(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value

    @field_validator("layers")
    @classmethod
    def _layers_are_identifiers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for layer in value:
            if not layer.isidentifier():
                raise ValueError(f"layer name {layer!r} must be a SQL identifier")
            if layer in RESERVED_LAYERS:
                raise ValueError(f"layer name {layer!r} is reserved for afluente's own tables")
        return value
