"""`afluente init` and `afluente demo`."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import typer

from afluente.cli.app import app
from afluente.cli.commands_run import render_run_summary, run_payload
from afluente.cli.console import Console
from afluente.cli.context import state_of


@app.command()
def init(
    ctx: typer.Context,
    directory: Path = typer.Argument(..., help="Folder for the new project."),
    name: str = typer.Option(None, "--name", help="Project name (default: folder name)."),
    force: bool = typer.Option(False, "--force", help="Overwrite starter files."),
) -> None:
    """Create a small working project (bronze → silver → gold) in DIRECTORY."""
    from afluente.cli.scaffold import scaffold

    cli = state_of(ctx)
    written = scaffold(directory, name, force)
    payload = {"project": str(directory), "files": [str(p) for p in written]}

    def render(console: Console) -> None:
        console.line(f"[green]✓[/] created a project in {directory} ({len(written)} files)")
        program = _program()
        console.line(f"next: [bold]{program} -p {directory} run[/], then "
                     f"[bold]{program} -p {directory} query "
                     "\"select * from gold.revenue_by_state\"[/]")

    cli.console.emit(payload, render)


@app.command()
def demo(
    ctx: typer.Context,
    directory: Path = typer.Option(Path("demo"), "--dir", help="Where to build the demo."),
    orders: int = typer.Option(20_000, "--orders", help="Number of orders to generate."),
    seed: int = typer.Option(42, "--seed", help="Seed of the synthetic data."),
    ml: bool = typer.Option(False, "--ml", help="Add the repeat-purchase model: trained, "
                            "registered in MLflow, scored into gold (pip install "
                            "'afluente[ml]'; docs/ml.md)."),
) -> None:
    """Generate a dirty Brazilian e-commerce landing zone and run bronze → silver → gold on it."""
    from rich.progress import Progress

    from afluente.cli.run_reporter import RichRunReporter
    from afluente.config import load_project
    from afluente.demo.build import prepare_demo
    from afluente.runtime import SilentReporter, run_project

    cli = state_of(ctx)
    console = cli.console
    with Progress(console=console.out, transient=True, disable=console.json_mode) as bar:
        task = bar.add_task("generating landing zone", total=None)

        def progress(entity: str, done: int, total: int) -> None:
            bar.update(task, description=f"generating {entity}", completed=done, total=total)

        layout = prepare_demo(directory, orders, seed, progress, ml=ml)
    project = load_project(directory, cli.environment)
    reporter = SilentReporter() if console.json_mode else RichRunReporter(console)
    result = run_project(project, reporter=reporter)
    payload = {**run_payload(result), "project": str(directory.resolve()),
               "warehouse": project.warehouse_uri}

    def render(c: Console) -> None:
        render_run_summary(c, result)
        _render_summary(c, directory, project.warehouse_uri, result, layout.landing)

    console.emit(payload, render)
    if result.status != "success":
        sys.exit(1)


def _render_summary(
    console: Console, directory: Path, warehouse: str, result: object, landing: object
) -> None:
    from afluente.runtime import RunResult
    from afluente.storage import Warehouse
    from afluente.transform import visible_row_count

    assert isinstance(result, RunResult)
    stored = Warehouse(warehouse)
    rows = [
        [str(m.ref), m.ref.layer,
         f"{visible_row_count(stored.dataset(m.ref, m.version)):,}" if m.version is not None
         else "", m.version]
        for m in result.models
    ]
    console.table(["table", "layer", "rows", "version"], rows, title="demo tables")
    console.line(f"project:   {directory.resolve()}")
    console.line(f"landing:   {directory.resolve() / 'landing'}")
    console.line(f"warehouse: {warehouse}  (Delta tables: <layer>/<table>)")
    console.line("try next:")
    p = f"{_program()} -p {directory}"
    for hint in (
        f"{p} query \"select * from gold.revenue_by_state_month order by 1, 2 limit 10\"",
        f"{p} query \"select * from gold.revenue_backtest where method = 'holt_winters' "
        "order by smape\"   # the revenue forecast's backtest",
        f"{p} history silver.orders",
        f"{p} plan            # nothing to do: every table is up to date",
        f"{p} runs",
        f"{p} query \"select type, model, ts from afluente.events order by ts\"",
    ):
        console.line(f"  {hint}", style="cyan")


def _program() -> str:
    """`afluente` when it is on PATH, else the path it was started by (.venv/bin/afluente)."""
    if shutil.which("afluente") or not sys.argv or not sys.argv[0].endswith("afluente"):
        return "afluente"
    return os.path.relpath(sys.argv[0])
