"""`afluente scheduler` (the long-running process behind `schedules:` and `sensors:`) and
`afluente schedules` (each one's next due time and last run)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import typer

from afluente.cli.app import app
from afluente.cli.console import Console
from afluente.cli.context import state_of

if TYPE_CHECKING:
    from afluente.config import Project


@app.command()
def scheduler(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Look once (run what is due) and exit."),
    poll: float = typer.Option(5.0, "--poll", min=0.05, help="Seconds between looks."),
) -> None:
    """Run schedules when due and sensors when they fire, until SIGTERM or Ctrl-C."""
    import threading

    from afluente.scheduler import Scheduler, stop_on_signals

    cli = state_of(ctx)
    project = cli.project()
    _validate(project)
    if not cli.debug:
        logging.getLogger("afluente.scheduler").setLevel(logging.INFO)
    stop = threading.Event()
    stop_on_signals(stop)
    Scheduler(project, poll=poll, stop=stop).serve(once=once)


@app.command()
def schedules(ctx: typer.Context) -> None:
    """Each schedule and sensor: trigger, selection, next due time and last run."""
    from afluente.scheduler.status import trigger_rows

    cli = state_of(ctx)
    project = cli.project()
    _validate(project)
    rows = trigger_rows(project)

    def render(console: Console) -> None:
        if not rows:
            console.line("no schedules or sensors in afluente.yml")
            return
        console.table(
            ["name", "kind", "when", "select", "next due", "last run", "status"],
            [[r["name"], r["kind"], r["when"], r["select"] or "(all)", _short(r["next_due"]),
              r["last_run_id"] or "-", r["last_status"] or "-"] for r in rows],
        )

    cli.console.emit({"schedules": rows}, render)


def _short(moment: str | None) -> str:
    """`2026-11-24 06:00` from an ISO time (the timezone is in the `when` column)."""
    return moment[:16].replace("T", " ") if moment else "-"


def _validate(project: Project) -> None:
    from afluente.model import load_graph
    from afluente.scheduler import validate_orchestration

    validate_orchestration(project, load_graph(project))
