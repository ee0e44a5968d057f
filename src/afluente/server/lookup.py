"""A table named in a request: one of the project's, or a 404 with the closest names."""

from __future__ import annotations

from afluente.errors import ModelError
from afluente.model import Graph, TableRef
from afluente.server.problems import NotFound


def resolve_table(graph: Graph, text: str) -> TableRef:
    """`layer.table` of the project, or 404 with the closest names."""
    try:
        return graph.resolve(text)
    except ModelError:
        raise NotFound(f"unknown table `{text}`", hint=graph.suggest(text.lower())) from None
