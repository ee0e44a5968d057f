"""Whether each selected model's engine (its own `engine:`, else the project's) can build
it, checked before anything runs (`validate`, `plan`, `run`): a model its engine cannot
build, or naming an engine the project does not have, is an error naming the model's file,
not a failure half-way through a run."""

from __future__ import annotations

from collections.abc import Iterable

from afluente.config import Project
from afluente.engines import Capability
from afluente.engines.registry import engine_capabilities, engine_frame, engine_label
from afluente.errors import EngineError, Location
from afluente.model import Graph, Node, TableRef


def model_engine(project: Project, node: Node) -> str:
    """The engine that builds `node`: a name of `engines:` or an engine type (a ConfigError
    at the model's `engine:` line when the project has no such engine)."""
    choice = node.config.engine
    location = node.location
    if choice is not None and node.config_doc is not None and ("engine",) in \
            node.config_doc.lines:
        location = node.config_doc.location(("engine",))
    return engine_label(project, choice, location)


def check_engine_fits(project: Project, graph: Graph, refs: Iterable[TableRef]) -> None:
    """Raise an EngineError for the first selected model its engine cannot build."""
    for ref in sorted(refs, key=str):
        node = graph[ref]
        engine = model_engine(project, node)
        capabilities = engine_capabilities(project, engine)
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
        check_frame(project, node, engine)


def check_frame(project: Project, node: Node, engine: str) -> None:
    """A model's `frame:` must be one its engine can give: a Python model asking for another
    engine's own frame (a DuckDB relation on Spark) fails here, before anything runs."""
    wanted = node.config.frame
    if wanted is None:
        return
    location = _frame_location(node)
    if node.language != "python":
        raise EngineError(
            f"`frame: {wanted}` applies to Python models only; `{node.name}` is a "
            f"{node.language} model",
            location=location, table=node.name, hint="remove `frame:` from its config",
        )
    if wanted not in ("duckdb", "spark"):
        return  # Arrow, pandas and Polars frames are converted from any engine's
    given = engine_frame(project, engine)
    if given != wanted:
        raise EngineError(
            f"`{node.name}` takes {wanted} frames (`frame: {wanted}`), and the `{engine}` "
            f"engine gives {given or 'its own'} frames",
            location=location,
            table=node.name,
            hint=f"run this model on a {wanted} engine (`engine: {wanted}` in its config), "
            "or declare `frame: arrow`, `pandas` or `polars` and write the function for that",
        )


def _frame_location(node: Node) -> Location:
    if node.config_doc is not None and ("frame",) in node.config_doc.lines:
        return node.config_doc.location(("frame",))
    return node.location

