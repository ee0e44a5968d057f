"""The pydantic schema of `afluente.yml`. Unknown keys are errors (`extra="forbid"`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from afluente.config.governance import GovernanceConfig
from afluente.config.maintenance import MaintenanceSpec
from afluente.config.observability import AlertsConfig, FreshnessSLA
from afluente.config.orchestration import RunSettings, ScheduleSpec, SensorSpec
from afluente.config.retention import normal_retention, retention_pair_error

DEFAULT_LAYERS = ("bronze", "silver", "gold")
RESERVED_LAYERS = ("afluente",)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EngineConfig(_Strict):
    """Which compute engine runs the models (`engine:`). The engine's own settings model
    validates the other keys (`afluente.engines.registry`), as connectors do for sources."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = Field(
        default="duckdb",
        json_schema_extra={"hint": "the engine that runs the models: duckdb, spark, or "
                           "one a plugin registers"},
    )

    @property
    def extra(self) -> dict[str, Any]:
        return dict(self.__pydantic_extra__ or {})


SchemaEvolution = Literal["add_columns", "rescue", "fail"]


class SourceBase(_Strict):
    """Keys every source has, whatever its type. Connectors extend this with their own keys.

    `columns` are type hints (`name: DUCKDB_TYPE`): values that cannot be cast are kept as
    text in `_rescued_data`, never lost. `schema_evolution` says what a new source column
    does: `add_columns` evolves the bronze schema, `rescue` keeps its values in
    `_rescued_data`, `fail` stops the ingestion with nothing written.
    """

    type: str = Field(
        json_schema_extra={"hint": "the connector that reads it: files, postgres, mysql, "
                           "mariadb, rest, seed, kafka, postgres_cdc, or one a plugin registers"}
    )
    table: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    columns: dict[str, str] = Field(default_factory=dict)
    schema_evolution: SchemaEvolution = "add_columns"
    freshness: FreshnessSLA | None = None  # how stale its bronze table may get
    # how long its bronze table keeps a row (LGPD), measured on `retention_column`; applied
    # by `afluente retain` and the scheduler, as a model's
    retention: str | None = None
    retention_column: str | None = None
    # compaction, Z-order, vacuum, checkpoints of its bronze table (docs/maintenance.md)
    maintenance: MaintenanceSpec | None = None

    @field_validator("retention", mode="before")
    @classmethod
    def _retention(cls, value: Any) -> Any:
        return normal_retention(value)

    @model_validator(mode="after")
    def _retention_needs_column(self) -> SourceBase:
        error = retention_pair_error(self.retention, self.retention_column)
        if error is not None:
            raise ValueError(error)
        return self


class SourceSpec(SourceBase):
    """A source as the project file declares it; its connector validates the other keys."""

    model_config = ConfigDict(extra="allow", frozen=True)

    @property
    def extra(self) -> dict[str, Any]:
        return dict(self.__pydantic_extra__ or {})


class SinkSpec(_Strict):
    """Where gold tables are published (a data mart for BI tools); the sink validates its
    other keys, like a connector does for a source."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str
    tables: tuple[str, ...] | dict[str, Any] = ()  # a list, or `table: {per-table options}`

    @property
    def extra(self) -> dict[str, Any]:
        return dict(self.__pydantic_extra__ or {})


class _EngineShorthands(_Strict):
    """`engine: spark` for `engine: {type: spark}`, in `engine:` and in each of `engines:`
    (the project's settings and an environment's)."""

    @field_validator("engine", mode="before", check_fields=False)
    @classmethod
    def _engine_shorthand(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value

    @field_validator("engines", mode="before", check_fields=False)
    @classmethod
    def _engines_shorthand(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {name: {"type": spec} if isinstance(spec, str) else spec
                for name, spec in value.items()}


class EnvironmentConfig(_EngineShorthands):
    """Overrides applied when `--env NAME` (or AFLUENTE_ENV) selects this environment."""

    warehouse: str | None = None
    state: str | None = None
    engine: EngineConfig | None = None
    # engines by name: each replaces the project's engine of that name, or adds one
    engines: dict[str, EngineConfig] = Field(default_factory=dict)
    vars: dict[str, Any] = Field(default_factory=dict)


class OpenLineageConfig(_Strict):
    """Where OpenLineage run events go: `file` (NDJSON at `path`), `http` (a Marquez-compatible
    `url`), `console` (the log), or `none`."""

    transport: Literal["file", "http", "console", "none"] = "none"
    path: str = "target/openlineage.ndjson"
    url: str | None = None
    endpoint: str = "api/v1/lineage"
    namespace: str | None = None  # the job namespace; default: the project name


class MLSettings(_Strict):
    """`ml:` — where `train` and `score` models track runs and register models (MLflow). By
    default a SQLite store in `.afluente/mlflow.db` and artefacts in `.afluente/mlruns`."""

    tracking_uri: str | None = None


class ModelsConfig(_Strict):
    """`models:` — the models folder (`path`) and, under each layer name, config defaults
    for every model of that layer folder (`silver: {kind: view}`). A plain string is the
    folder alone. The defaults are validated, with file:line, when models are discovered."""

    model_config = ConfigDict(extra="allow", frozen=True)

    path: str = "models"

    @property
    def defaults(self) -> dict[str, Any]:
        """Layer name → the config defaults declared for it (unvalidated)."""
        return dict(self.__pydantic_extra__ or {})


class ProjectConfig(_EngineShorthands):
    """The whole `afluente.yml`."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    warehouse: str = "warehouse"
    engine: EngineConfig = EngineConfig()
    # more engines, by name, that a model picks with `engine: NAME` in its config
    engines: dict[str, EngineConfig] = Field(default_factory=dict)
    state: str | None = None
    models: ModelsConfig = ModelsConfig()
    layers: tuple[str, ...] = DEFAULT_LAYERS
    vars: dict[str, Any] = Field(default_factory=dict)
    environments: dict[str, EnvironmentConfig] = Field(default_factory=dict)
    default_environment: str | None = None
    sources: dict[str, SourceSpec] = Field(default_factory=dict)
    sinks: dict[str, SinkSpec] = Field(default_factory=dict)
    openlineage: OpenLineageConfig = OpenLineageConfig()
    alerts: AlertsConfig = AlertsConfig()  # observability: channels and detector
    run: RunSettings = RunSettings()  # orchestration: workers, retries, timeouts
    schedules: dict[str, ScheduleSpec] = Field(default_factory=dict)
    sensors: dict[str, SensorSpec] = Field(default_factory=dict)
    # access control: roles, grants, masks, row filters (docs/governance.md)
    governance: GovernanceConfig | None = None
    ml: MLSettings = MLSettings()  # train/score models: the MLflow tracking store


    @field_validator("engines")
    @classmethod
    def _engine_names_are_identifiers(
        cls, value: dict[str, EngineConfig]
    ) -> dict[str, EngineConfig]:
        for name in value:
            if not name.isidentifier():
                raise ValueError(f"engine name {name!r} must be an identifier (letters, "
                                 "digits, _)")
        return value

    @field_validator("models", mode="before")
    @classmethod
    def _models_folder_shorthand(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value

    @field_validator("layers")
    @classmethod
    def _layers_are_identifiers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for layer in value:
            if not layer.isidentifier():
                raise ValueError(f"layer name {layer!r} must be a SQL identifier")
            if layer in RESERVED_LAYERS:
                raise ValueError(f"layer name {layer!r} is reserved for afluente's own tables")
        return value
