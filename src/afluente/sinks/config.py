"""The keys every sink has, and the per-table publish options.

`tables` is either a list of gold tables (published with the defaults) or a mapping from a
table to its options, so the common case stays one line per table:

    tables:
      gold.dim_customer:
      gold.fct_orders: {mode: upsert, keys: [order_id], indexes: [[customer_id]]}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from afluente.config.yaml_lines import KeyPath

PublishMode = Literal["replace", "upsert"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TableOptions(_Strict):
    """How one table is published: its name in the sink, the write mode and its keys."""

    name: str | None = None
    mode: PublishMode = "replace"
    keys: tuple[str, ...] = ()
    indexes: tuple[tuple[str, ...] | str, ...] = ()

    @model_validator(mode="after")
    def _upsert_needs_keys(self) -> TableOptions:
        if self.mode == "upsert" and not self.keys:
            raise ValueError("mode: upsert needs `keys: [column, ...]` (the primary key)")
        return self

    def index_columns(self) -> list[tuple[str, ...]]:
        """Each index as its columns (`indexes: [a, [b, c]]` is two indexes)."""
        return [(i,) if isinstance(i, str) else tuple(i) for i in self.indexes]


class SinkBase(_Strict):
    """Keys every sink type has; a sink type extends it with its own (connection...)."""

    type: str
    description: str | None = None
    tables: tuple[str, ...] | dict[str, TableOptions | None] = Field(
        default=(),
        json_schema_extra={"hint": "a list of gold tables, or `layer.table: {options}`"},
    )
    publish_after_run: bool = False

    def entries(self) -> list[SinkEntry]:
        """The declared tables with their options and where each is written in the file."""
        if isinstance(self.tables, dict):
            return [SinkEntry(text, options or TableOptions(), ("tables", text))
                    for text, options in self.tables.items()]
        return [SinkEntry(text, TableOptions(), ("tables", i))
                for i, text in enumerate(self.tables)]


@dataclass(frozen=True)
class SinkEntry:
    """One `tables` entry as written (`text`), before it is resolved against the graph."""

    text: str
    options: TableOptions
    path: KeyPath
