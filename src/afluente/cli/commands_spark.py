"""`afluente spark export`: the project as a Spark Declarative Pipelines project.

Writes a folder `spark-pipelines run` accepts (`afluente.scheduler.sdp_export`); a table SDP
cannot express is refused before anything is written. The files are generated text only:
pyspark need not be installed where this runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from afluente.cli.app import app
from afluente.cli.commands_run import SELECT_HELP
from afluente.cli.console import Console
from afluente.cli.context import state_of

spark_app = typer.Typer(help="Run the project on Apache Spark's own tools.",
                        no_args_is_help=True)
app.add_typer(spark_app, name="spark")


@spark_app.command("export")
def export(
    ctx: typer.Context,
    out: Path = typer.Option(
        Path("spark-pipeline"), "--out", "-o",
        help="The SDP project folder to write (new, empty, or an earlier export).",
    ),
    select: str = typer.Option(None, "--select", "-s", help=SELECT_HELP),
    storage: str = typer.Option(
        None, "--storage",
        help="The pipeline's storage root (checkpoints), default OUT/pipeline-storage.",
    ),
) -> None:
    """Write a Spark Declarative Pipelines project: spec and one definition per table."""
    from afluente.model import load_graph
    from afluente.scheduler.sdp_export import plan_export, write_export

    cli = state_of(ctx)
    project = cli.project()
    target = out if out.is_absolute() else Path.cwd() / out
    root = storage or (target.resolve() / "pipeline-storage").as_uri()
    plan = plan_export(project, load_graph(project), select, root)
    write_export(plan, target)
    payload: dict[str, Any] = {
        "path": str(target),
        "tables": [{"table": str(d.ref), "construct": d.construct, "file": d.path}
                   for d in plan.definitions],
        "external": [str(r) for r in plan.external],
        "notes": plan.notes,
    }

    def render(console: Console) -> None:
        console.line(f"wrote {target}: {len(plan.definitions)} table(s), "
                     f"check it with `spark-pipelines dry-run --spec {target}/spark-pipeline.yml`")
        for d in plan.definitions:
            console.line(f"  {d.ref}: {d.construct} ({d.path})")
        for ref in plan.external:
            console.line(f"  reads {ref} from the catalog (not in the selection)")
        for note in plan.notes:
            console.line(f"  note: {note}")

    cli.console.emit(payload, render)
