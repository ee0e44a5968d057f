"""The declarative graph: nodes (sources, SQL and Python models), the DAG and selectors.

This layer knows nothing about DuckDB, Arrow, Delta or the CLI. Names load on first use, so
`import afluente` in a Python model file (which needs only the decorators) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from afluente.model.discover import discover_nodes, load_graph
    from afluente.model.graph import Graph, build_graph
    from afluente.model.nodes import Dependency, Node
    from afluente.model.refs import TableRef
    from afluente.model.selector import select

_EXPORTS = {
    "Dependency": "afluente.model.nodes",
    "Graph": "afluente.model.graph",
    "Node": "afluente.model.nodes",
    "TableRef": "afluente.model.refs",
    "build_graph": "afluente.model.graph",
    "discover_nodes": "afluente.model.discover",
    "load_graph": "afluente.model.discover",
    "select": "afluente.model.selector",
}

__all__ = [
    "Dependency",
    "Graph",
    "Node",
    "TableRef",
    "build_graph",
    "discover_nodes",
    "load_graph",
    "select",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'afluente.model' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
