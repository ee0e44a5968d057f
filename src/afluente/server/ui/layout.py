"""A layered drawing of a directed acyclic graph, computed on the server so a page shows a
1,000-node pipeline as plain SVG without a graph library: each node's column is its group
(a layer, left to right) plus its rank inside the group (the longest path from the group's
first nodes), and inside a column nodes are ordered by the mean row of their upstream
nodes, which keeps most edges short and uncrossed."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

NODE_W = 190
NODE_H = 30
COLUMN_W = 250
ROW_H = 42
MARGIN = 24
HEADER_H = 28


@dataclass(frozen=True)
class Placed:
    id: str
    column: int
    row: int

    @property
    def x(self) -> int:
        return MARGIN + self.column * COLUMN_W

    @property
    def y(self) -> int:
        return MARGIN + HEADER_H + self.row * ROW_H


@dataclass(frozen=True)
class Edge:
    source: Placed
    target: Placed

    @property
    def path(self) -> str:
        """An SVG cubic curve from the source's right side to the target's left side."""
        x1, y1 = self.source.x + NODE_W, self.source.y + NODE_H // 2
        x2, y2 = self.target.x, self.target.y + NODE_H // 2
        bend = max(30, (x2 - x1) // 2)
        return f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"


@dataclass(frozen=True)
class Layout:
    nodes: dict[str, Placed]
    edges: list[Edge]
    groups: list[tuple[str, int]]  # (group name, x of its first column)
    width: int
    height: int


def layered(nodes: Sequence[str], edges: Sequence[tuple[str, str]],
            group_of: Callable[[str], str] = lambda _: "",
            groups: Sequence[str] = ("",)) -> Layout:
    """Place `nodes` (any order) joined by `edges` (upstream, downstream); `groups` names
    the groups left to right and `group_of` says each node's."""
    upstream: dict[str, list[str]] = {n: [] for n in nodes}
    for source, target in edges:
        if source in upstream and target in upstream:
            upstream[target].append(source)
    order = _topological(nodes, upstream)
    rank: dict[str, int] = {}
    for node in order:
        same = [rank[u] + 1 for u in upstream[node] if group_of(u) == group_of(node)]
        rank[node] = max(same, default=0)
    offsets, first = _group_offsets(order, rank, group_of, groups)
    column = {n: offsets[group_of(n)] + rank[n] for n in order}
    row = _rows(order, column, upstream)
    placed = {n: Placed(n, column[n], row[n]) for n in order}
    drawn = [Edge(placed[s], placed[t]) for s, t in edges if s in placed and t in placed]
    columns = max(column.values(), default=0) + 1
    rows = max(row.values(), default=0) + 1
    return Layout(placed, drawn, [(g, MARGIN + first[g] * COLUMN_W) for g in first],
                  2 * MARGIN + (columns - 1) * COLUMN_W + NODE_W,
                  2 * MARGIN + HEADER_H + (rows - 1) * ROW_H + NODE_H)


def _topological(nodes: Sequence[str], upstream: dict[str, list[str]]) -> list[str]:
    """Kahn's order (stable in the given order); nodes on a cycle come last."""
    downstream: dict[str, list[str]] = {n: [] for n in nodes}
    waiting = {n: len(set(upstream[n])) for n in nodes}
    for node in nodes:
        for up in set(upstream[node]):
            downstream[up].append(node)
    ready = deque(n for n in nodes if waiting[n] == 0)
    order: list[str] = []
    while ready:
        node = ready.popleft()
        order.append(node)
        for down in downstream[node]:
            waiting[down] -= 1
            if waiting[down] == 0:
                ready.append(down)
    seen = set(order)
    return order + [n for n in nodes if n not in seen]


def _group_offsets(order: list[str], rank: dict[str, int], group_of: Callable[[str], str],
                   groups: Sequence[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Each group's first column (every group, even an empty one, gets an offset) and the
    groups that have nodes."""
    width: dict[str, int] = {}
    for node in order:
        width[group_of(node)] = max(width.get(group_of(node), 0), rank[node] + 1)
    names = list(groups) + sorted(g for g in width if g not in groups)
    offsets: dict[str, int] = {}
    first: dict[str, int] = {}
    at = 0
    for name in names:
        offsets[name] = at
        if name in width:
            first[name] = at
            at += width[name]
    return offsets, first


def _rows(order: list[str], column: dict[str, int], upstream: dict[str, list[str]]
          ) -> dict[str, int]:
    by_column: dict[int, list[str]] = {}
    for node in order:
        by_column.setdefault(column[node], []).append(node)
    row: dict[str, int] = {}
    for index in sorted(by_column):
        weights = [(_mean_row(upstream[n], row), i, n) for i, n in enumerate(by_column[index])]
        for i, (_, _, node) in enumerate(sorted(weights)):
            row[node] = i
    return row


def _mean_row(upstream: list[str], row: dict[str, int]) -> float:
    """The mean row of a node's placed upstream nodes (-1: none, so it goes first)."""
    placed = [row[u] for u in upstream if u in row]
    return sum(placed) / len(placed) if placed else -1.0
