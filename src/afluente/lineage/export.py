"""Render a walk: an indented tree for people, Mermaid and Graphviz DOT for diagrams, JSON
for tools."""

from __future__ import annotations

import json
from typing import Literal

from afluente.lineage.walk import Direction, Hop

Format = Literal["tree", "mermaid", "dot", "json"]


def render(hops: list[Hop], fmt: Format, direction: Direction) -> str:
    if fmt == "tree":
        return to_tree(hops)
    if fmt == "mermaid":
        return to_mermaid(hops, direction)
    if fmt == "dot":
        return to_dot(hops, direction)
    return to_json(hops, direction)


def to_tree(hops: list[Hop]) -> str:
    lines = []
    for hop in hops:
        how = f"  ({hop.kind}{': ' + hop.detail if hop.detail else ''})" if hop.kind else ""
        lines.append("  " * hop.depth + ("└─ " if hop.depth else "") + hop.node + how)
    return "\n".join(lines)


def _arrows(hops: list[Hop], direction: Direction) -> list[tuple[str, str, str]]:
    """(from, to, label) with data flowing from → to, whatever the walk's direction."""
    arrows = []
    for hop in hops:
        if hop.parent is None:
            continue
        pair = (hop.node, hop.parent) if direction == "upstream" else (hop.parent, hop.node)
        arrows.append((*pair, hop.kind))
    return list(dict.fromkeys(arrows))


def _ids(hops: list[Hop]) -> dict[str, str]:
    return {name: f"n{i}" for i, name in enumerate(dict.fromkeys(h.node for h in hops))}


def to_mermaid(hops: list[Hop], direction: Direction) -> str:
    ids = _ids(hops)
    lines = ["flowchart LR"]
    lines += [f'    {i}["{name}"]' for name, i in ids.items()]
    for a, b, kind in _arrows(hops, direction):
        label = f"|{kind}|" if kind else ""
        lines.append(f"    {ids[a]} -->{label} {ids[b]}")
    return "\n".join(lines)


def to_dot(hops: list[Hop], direction: Direction) -> str:
    ids = _ids(hops)
    lines = ["digraph lineage {", "    rankdir=LR;", "    node [shape=box];"]
    lines += [f'    {i} [label="{name}"];' for name, i in ids.items()]
    for a, b, kind in _arrows(hops, direction):
        label = f' [label="{kind}"]' if kind else ""
        lines.append(f"    {ids[a]} -> {ids[b]}{label};")
    lines.append("}")
    return "\n".join(lines)


def to_json(hops: list[Hop], direction: Direction) -> str:
    nodes = list(dict.fromkeys(h.node for h in hops))
    edges = [{"from": a, "to": b, "kind": k} for a, b, k in _arrows(hops, direction)]
    return json.dumps({"root": nodes[0] if nodes else None, "direction": direction,
                       "nodes": nodes, "edges": edges}, indent=2)
