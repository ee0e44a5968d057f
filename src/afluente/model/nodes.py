"""The nodes of the graph: SQL models, Python models and source ingestions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from afluente.errors import Location
from afluente.model.kinds import TableKind, kind_named
from afluente.model.model_config import ModelConfig, NodeKind
from afluente.model.refs import TableRef

if TYPE_CHECKING:
    from afluente.config.yaml_lines import LocatedYaml

Language = Literal["sql", "python", "source"]


@dataclass(frozen=True)
class Dependency:
    """An upstream table, and where the model refers to it."""

    ref: TableRef
    location: Location


@dataclass(frozen=True)
class Node:
    """One table of the project and how it is built."""

    ref: TableRef
    language: Language
    location: Location
    config: ModelConfig
    depends_on: tuple[Dependency, ...] = ()
    sql: str | None = None
    function: Callable[..., Any] | None = None
    keywords: tuple[str, ...] | None = None
    source_name: str | None = None
    code: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # the config as written, with the line of each key (for errors found after loading)
    config_doc: LocatedYaml | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        return str(self.ref)

    @property
    def kind(self) -> NodeKind:
        return "ingest" if self.language == "source" else self.config.kind

    @property
    def table_kind(self) -> TableKind:
        return kind_named(self.kind)

    @property
    def materialized(self) -> bool:
        return self.table_kind.materialized

    @property
    def upstream(self) -> tuple[TableRef, ...]:
        return tuple(d.ref for d in self.depends_on)

    @property
    def file(self) -> Path:
        return Path(self.location.file)
