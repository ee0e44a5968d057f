"""The declarative graph: nodes (sources, SQL and Python models), the DAG and selectors.

This layer knows nothing about DuckDB, Arrow, Delta or the CLI.
"""

from afluente.model.discover import discover_nodes, load_graph
from afluente.model.graph import Graph, build_graph
from afluente.model.nodes import Dependency, Node
from afluente.model.refs import TableRef
from afluente.model.selector import select

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
