"""Each engine's settings: the keys of `engine:` in `afluente.yml` for that engine type.

An engine validates its own keys, as a connector does for its source (unknown keys are
errors that name the line and the valid keys)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class EngineSettings(BaseModel):
    """What every engine's settings have: the `type` that selects the engine."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str


class DuckDBSettings(EngineSettings):
    """`engine: {type: duckdb, threads: 4, memory_limit: 8GB}`: one in-process database per
    worker; `threads` and `memory_limit` are DuckDB's own settings of the same names."""

    type: Literal["duckdb"] = "duckdb"
    threads: int | None = Field(default=None, ge=1)
    memory_limit: str | None = None


class SparkSettings(EngineSettings):
    """`engine: {type: spark, master: "local[2]", conf: {...}, connect_url: sc://host:15002}`:
    one Spark session per process. `master` is `local[N]`/`local[*]` or a standalone
    cluster's `spark://host:port`; `connect_url` (`sc://host:port`) runs through Spark
    Connect instead and then `master` is not used. `conf` holds Spark settings
    (`spark.executor.memory: 2g`)."""

    type: Literal["spark"] = "spark"
    master: str = Field(default="local[2]", pattern=r"^(local(\[(\d+|\*)\])?|spark://.+)$")
    conf: dict[str, str | int | float | bool] = Field(default_factory=dict)
    connect_url: str | None = Field(default=None, pattern=r"^sc://.+")
    app_name: str = "afluente"
