"""Per-model configuration: the `/* @config */` header of SQL models, a sidecar `<name>.yml`,
or the keyword arguments of a Python model's decorator."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ModelKind = Literal["full", "view"]
NodeKind = Literal["full", "view", "ingest"]


class ColumnDoc(BaseModel):
    """Documentation of one output column."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str | None = None
    tags: tuple[str, ...] = ()


class ModelConfig(BaseModel):
    """What a model declares about itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ModelKind = "full"
    description: str | None = None
    tags: tuple[str, ...] = ()
    owner: str | None = None
    columns: dict[str, ColumnDoc] = Field(default_factory=dict)
