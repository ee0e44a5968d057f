"""`afluente airflow export`: the project as an Apache Airflow DAG file.

Without `--out` the file goes to stdout (`> dags/shop.py`, or a pipe into a deploy step);
with `--out FILE` it is written there and a one-line summary is printed. With `--json` the
summary (and, without `--out`, the file's text) is one JSON document. The file is
generated text only: Airflow need not be installed where this runs.
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from afluente.cli.app import app
from afluente.cli.console import Console
from afluente.cli.context import CliState, state_of
from afluente.errors import ConfigError

if TYPE_CHECKING:
    from afluente.scheduler.airflow_dag import DagSpec, ExportOptions

airflow_app = typer.Typer(help="Run the project from Apache Airflow.", no_args_is_help=True)
app.add_typer(airflow_app, name="airflow")


class GroupBy(StrEnum):
    model = "model"
    layer = "layer"


@airflow_app.command("export")
def export(
    ctx: typer.Context,
    out: Path = typer.Option(None, "--out", "-o", help="Write the DAG file here (default: stdout)"),
    group_by: GroupBy = typer.Option(
        GroupBy.model, "--group-by", help="One Airflow task per model, or per layer."
    ),
    afluente_command: str = typer.Option(
        "afluente", "--afluente-command",
        help="How Airflow workers call afluente, e.g. /opt/venvs/afluente/bin/afluente.",
    ),
    project_dir_in_airflow: str = typer.Option(
        None, "--project-dir-in-airflow",
        help="The project folder as the Airflow workers see it (default: this project's path).",
    ),
    start_date: datetime = typer.Option(
        None, "--start-date", formats=["%Y-%m-%d"],
        help="The DAGs' start date (default: today, UTC); pin it to regenerate identically.",
    ),
) -> None:
    """Write an Airflow DAG file: one DAG per schedule, tasks calling `afluente run`."""
    from afluente.model import load_graph
    from afluente.scheduler.airflow_dag import ExportOptions, plan_dags, render_dag_file

    cli = state_of(ctx)
    project = cli.project()
    options = ExportOptions(
        project_dir=project_dir_in_airflow or str(project.root.resolve()),
        start_date=(start_date or datetime.now(UTC)).date(),
        group_by="layer" if group_by is GroupBy.layer else "model",
        afluente_command=afluente_command,
        environment=cli.environment,
    )
    dags = plan_dags(project, load_graph(project), options)
    text = render_dag_file(project, dags, options, _regenerate_command(cli, options, out))
    payload: dict[str, Any] = {"path": str(out) if out else None,
                               "dags": [_dag_payload(d) for d in dags]}
    if out is None:
        if cli.json:
            cli.console.emit({**payload, "text": text}, lambda console: None)
        else:
            cli.console.out.file.write(text)
        return
    _write(out, text)

    def render(console: Console) -> None:
        tasks = sum(len(d.tasks) for d in dags)
        console.line(f"wrote {out}: {len(dags)} DAG(s), {tasks} task(s) "
                     f"({', '.join(d.dag_id for d in dags)})")

    cli.console.emit(payload, render)


def _write(out: Path, text: str) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot write the DAG file {out}: {exc.strerror or exc}",
            hint="pass --out with a writable path (for example your Airflow dags/ folder), "
            "or leave it out to print the file",
        ) from None


def _regenerate_command(cli: CliState, options: ExportOptions, out: Path | None) -> str:
    args = ["afluente", "-p", str(cli.project_dir)]
    if options.environment:
        args += ["--env", options.environment]
    args += ["airflow", "export", "--group-by", options.group_by,
             "--afluente-command", options.afluente_command,
             "--project-dir-in-airflow", options.project_dir,
             "--start-date", options.start_date.isoformat()]
    if out is not None:
        args += ["--out", str(out)]
    return shlex.join(args)


def _dag_payload(dag: DagSpec) -> dict[str, Any]:
    return {"dag_id": dag.dag_id, "schedule": dag.cron, "timezone": dag.timezone,
            "tasks": [t.task_id for t in dag.tasks]}
