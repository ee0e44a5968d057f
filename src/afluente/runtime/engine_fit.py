"""Whether the project's engine can build every selected model, checked before anything
runs (`validate`, `plan`, `run`): a model its engine cannot build is an error naming the
model's file, not a failure half-way through a run."""

from __future__ import annotations

from collections.abc import Iterable

from afluente.config import Project
from afluente.engines import Capability
from afluente.engines.registry import engine_capabilities
from afluente.errors import EngineError
from afluente.model import Graph, TableRef


def check_engine_fits(project: Project, graph: Graph, refs: Iterable[TableRef]) -> None:
    """Raise an EngineError for the first selected model the engine cannot build."""
    capabilities = engine_capabilities(project)
    engine = project.config.engine.type
    for ref in sorted(refs, key=str):
        node = graph[ref]
        if node.table_kind.incremental and Capability.WORKSPACE not in capabilities:
            raise EngineError(
                f"`{node.name}` is a `{node.table_kind.name}` table, and the `{engine}` "
                "engine cannot build incremental kinds (it has no workspace)",
                location=node.location,
                table=node.name,
                hint="run this project on an engine with a workspace (`engine: duckdb` or "
                "`engine: spark`), or make the model `kind: full`",
            )
        if node.language == "python" and Capability.PYTHON_MODELS not in capabilities:
            raise EngineError(
                f"`{node.name}` is a Python model, and the `{engine}` engine runs SQL models "
                "only",
                location=node.location,
                table=node.name,
                hint="write the model in SQL, or run the project on `engine: duckdb`",
            )
