"""The vocabulary of lineage: columns of datasets, and classified edges between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

EdgeKind = Literal["identity", "transformation", "aggregation", "indirect"]
KIND_RANK: dict[EdgeKind, int] = {
    "identity": 0, "transformation": 1, "aggregation": 2, "indirect": 3,
}
SOURCE_PREFIX = "source:"


@dataclass(frozen=True, order=True)
class ColumnKey:
    """One column of a dataset: a table (`silver.orders`) or a source (`source:orders`)."""

    dataset: str
    column: str

    def __str__(self) -> str:
        return f"{self.dataset}.{self.column}"


@dataclass(frozen=True, order=True)
class ColumnEdge:
    """`target` is computed from `source`. `detail` says how (a function, `filter`, ...);
    `masking` that the source's values do not reach the target (hashed or counted)."""

    target: ColumnKey
    source: ColumnKey
    kind: EdgeKind
    detail: str = ""
    masking: bool = False


@dataclass(frozen=True)
class DatasetInfo:
    """A node of the lineage graph: a table of the project or an external source."""

    name: str
    columns: tuple[str, ...]
    inputs: tuple[str, ...]
    language: str  # sql | python | source | external
    location: str = ""  # for sources: the file glob, database table or endpoint


@dataclass(frozen=True)
class ModelLineage:
    """Everything lineage knows about one dataset: its columns, edges and what went wrong."""

    dataset: DatasetInfo
    edges: tuple[ColumnEdge, ...] = ()
    warnings: tuple[str, ...] = ()
    column_level: bool = True
    indirect: tuple[ColumnEdge, ...] = field(default=())  # dataset-wide: filters, joins, groups
