"""Walk the lineage graph from a table or a column, upstream or downstream, to a depth."""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from afluente.errors import ModelError
from afluente.lineage.model import ColumnEdge, ColumnKey
from afluente.lineage.project import ProjectLineage

Direction = Literal["upstream", "downstream"]


@dataclass(frozen=True)
class Hop:
    """One step of a walk: `node` reached from `parent` over `edge` at `depth`."""

    node: str  # a dataset name or a ColumnKey rendered `dataset.column`
    parent: str | None
    depth: int
    kind: str = ""
    detail: str = ""


def parse_target(lineage: ProjectLineage, text: str) -> tuple[str, str | None]:
    """`layer.table` or `layer.table.column` (or `source:name[.column]`) → (dataset, column);
    unknown names raise with the closest matches."""
    parts = text.strip().lower().split(".")
    dataset = ".".join(parts[:2]) if not parts[0].startswith("source:") else parts[0]
    column = ".".join(parts[len(dataset.split(".")):]) or None
    if dataset not in lineage.datasets:
        raise ModelError(f"unknown table `{dataset}`",
                         hint=_close(dataset, sorted(lineage.datasets), "tables"))
    known = lineage.datasets[dataset].dataset.columns
    if column is not None and column not in known:
        raise ModelError(f"`{dataset}` has no column `{column}`",
                         hint=_close(column, list(known), f"columns of {dataset}"))
    return dataset, column


def _close(name: str, choices: list[str], what: str) -> str:
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"
    if not choices:
        return f"no {what} are known: build the table first (`afluente run`)"
    return f"known {what}: " + ", ".join(choices[:20]) + (" ..." if len(choices) > 20 else "")


def walk_columns(
    lineage: ProjectLineage, start: ColumnKey, direction: Direction, depth: int | None
) -> list[Hop]:
    """Column hops in depth-first order; indirect edges of a dataset apply to all columns."""
    index = _column_index(lineage.edges(), direction)
    hops: list[Hop] = [Hop(str(start), None, 0)]
    _descend(str(start), index, hops, 1, depth, {str(start)}, direction)
    return hops


def walk_tables(
    lineage: ProjectLineage, start: str, direction: Direction, depth: int | None
) -> list[Hop]:
    index: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for name, model in lineage.datasets.items():
        for up in model.dataset.inputs:
            if direction == "upstream":
                index[name].append((up, "", ""))
            else:
                index[up].append((name, "", ""))
    hops: list[Hop] = [Hop(start, None, 0)]
    _descend(start, index, hops, 1, depth, {start}, direction)
    return hops


def _column_index(
    edges: list[ColumnEdge], direction: Direction
) -> dict[str, list[tuple[str, str, str]]]:
    index: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    wide = [e for e in edges if e.target.column == "*"]
    for edge in edges:
        if edge.target.column == "*":
            continue
        a, b = (edge.target, edge.source) if direction == "upstream" else (edge.source,
                                                                           edge.target)
        index[str(a)].append((str(b), edge.kind, edge.detail))
    for edge in wide:
        if direction == "upstream":
            index[f"{edge.target.dataset}.*"].append((str(edge.source), edge.kind, edge.detail))
        else:
            index[str(edge.source)].append((f"{edge.target.dataset}.*", edge.kind, edge.detail))
    return index


def _descend(
    node: str, index: dict[str, list[tuple[str, str, str]]], hops: list[Hop], level: int,
    depth: int | None, seen: set[str], direction: Direction,
) -> None:
    if depth is not None and level > depth:
        return
    for nxt, kind, detail in sorted(set(index.get(node, ()))):
        hops.append(Hop(nxt, node, level, kind, detail))
        if nxt not in seen:
            seen.add(nxt)
            _descend(nxt, index, hops, level + 1, depth, seen, direction)
