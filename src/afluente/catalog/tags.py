"""Tags follow the data: a tag on a column (`pii`) is inherited by every downstream column
that carries its values through identity or transformation edges. Aggregates and filters do
not pass values on, so they do not inherit."""

from __future__ import annotations

from collections import defaultdict

from afluente.lineage import ProjectLineage
from afluente.model import Graph

PASSING = ("identity", "transformation")


def declared_tags(graph: Graph) -> dict[str, set[str]]:
    """`dataset.column` → tags declared in model configs (`columns: {c: {tags: [...]}}`)."""
    tags: dict[str, set[str]] = defaultdict(set)
    for ref, node in graph.nodes.items():
        for column, doc in node.config.columns.items():
            tags[f"{ref}.{column}"].update(doc.tags)
    return tags


def propagate_tags(lineage: ProjectLineage, declared: dict[str, set[str]]) -> dict[str, set[str]]:
    """Declared tags plus the ones inherited along passing edges (to a fixed point)."""
    tags: dict[str, set[str]] = defaultdict(set, {k: set(v) for k, v in declared.items()})
    edges = [e for e in lineage.edges() if e.kind in PASSING]
    changed = True
    while changed:
        changed = False
        for edge in edges:
            new = tags.get(str(edge.source), set()) - tags[str(edge.target)]
            if new:
                tags[str(edge.target)] |= new
                changed = True
    return tags
