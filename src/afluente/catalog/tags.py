"""Tags follow the data: a tag on a column (`pii`) is inherited by every downstream column
that carries its values through identity or transformation edges (the propagation is the
lineage layer's, `afluente.lineage.propagate`, shared with the governed reader)."""

from __future__ import annotations

from collections import defaultdict

from afluente.lineage.propagate import propagate_tags
from afluente.model import Graph

__all__ = ["declared_tags", "propagate_tags"]


def declared_tags(graph: Graph) -> dict[str, set[str]]:
    """`dataset.column` → tags declared in model configs (`columns: {c: {tags: [...]}}`)."""
    tags: dict[str, set[str]] = defaultdict(set)
    for ref, node in graph.nodes.items():
        for column, doc in node.config.columns.items():
            tags[f"{ref}.{column}"].update(doc.tags)
    return tags
