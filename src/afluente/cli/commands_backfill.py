"""`afluente backfill`: rebuild the partitions of time_range models over a date range, with
a progress bar (none with --json) and a summary; resumable with --resume."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from afluente.cli.app import app
from afluente.cli.console import Console, JsonConsole
from afluente.cli.context import state_of
from afluente.errors import ConfigError

if TYPE_CHECKING:
    from afluente.runtime.backfill import BackfillResult, PartitionResult

MARKS = {"success": "[green]✓[/]", "failed": "[red]✗[/]", "skipped": "[yellow]↷[/]"}


@app.command()
def backfill(
    ctx: typer.Context,
    selector: str = typer.Argument(
        None, help="Models to backfill (selector syntax of --select; time_range models are "
        "partitioned, others run once in order). Not needed with --resume."),
    start: str = typer.Option(None, "--start", help="First date (partition) included."),
    end: str = typer.Option(None, "--end", help="Last date (partition) included."),
    workers: int = typer.Option(None, "--workers", "-w", min=1,
                                help="Partitions built at once (default: run: workers)."),
    resume: str = typer.Option(None, "--resume", help="Finish an interrupted backfill by id."),
    json_output: bool = typer.Option(False, "--json", help="Machine-readable JSON output."),
) -> None:
    """Rebuild the partitions of time_range models from --start to --end (inclusive)."""
    from afluente.runtime.backfill import BackfillRequest, SilentBackfillReporter, run_backfill

    cli = state_of(ctx)
    console = JsonConsole() if json_output or cli.json else cli.console
    if resume is None and (start is None or end is None):
        raise ConfigError(
            "afluente backfill needs --start and --end (or --resume BACKFILL_ID)",
            hint="e.g. afluente backfill silver.events --start 2026-01-01 --end 2026-01-31",
        )
    request = BackfillRequest(selector, start or "", end or "", workers, resume)
    reporter = RichBackfillReporter(console)
    try:
        result = run_backfill(cli.project(), request,
                              reporter=SilentBackfillReporter() if console.json_mode else reporter)
    except KeyboardInterrupt:
        reporter.stop()
        if reporter.backfill_id:
            console.error(f"backfill {reporter.backfill_id} interrupted; finish it with "
                          f"`afluente backfill --resume {reporter.backfill_id}`")
        sys.exit(130)
    finally:
        reporter.stop()
    console.emit(backfill_payload(result), lambda c: render_summary(c, result))
    if result.status != "success":
        sys.exit(1)


class RichBackfillReporter:
    """A progress bar over every partition task, one line per finished partition."""

    def __init__(self, console: Console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = console
        self.backfill_id: str | None = None
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=console.out, transient=True,
        )
        self.task = self.progress.add_task("backfill", total=0)
        self.running: list[str] = []

    def backfill_started(self, backfill_id: str, total: int, done: int, resumed: bool) -> None:
        self.backfill_id = backfill_id
        verb = "resuming" if resumed else "backfill"
        already = f", {done} already done" if done else ""
        self.console.line(f"{verb} [bold]{backfill_id}[/]: {total} partitions{already}")
        self.progress.update(self.task, total=total, completed=done)
        self.progress.start()

    def partition_started(self, model: str, partition: str) -> None:
        self.running.append(f"{model} {partition}")
        self._describe()

    def partition_finished(self, result: PartitionResult) -> None:
        name = f"{result.model} {result.partition}"
        if name in self.running:
            self.running.remove(name)
        self.progress.advance(self.task)
        self._describe()
        self.progress.console.print(_line(result), highlight=False)

    def stop(self) -> None:
        self.progress.stop()

    def _describe(self) -> None:
        shown = ", ".join(self.running[:3]) + (" ..." if len(self.running) > 3 else "")
        self.progress.update(self.task, description=shown or "backfill")


def _line(result: PartitionResult) -> str:
    name = f"{result.model} {result.partition}"
    if result.status == "success":
        return f"{MARKS['success']} {name:<40} {result.rows or 0:>12,} rows  v{result.version}"
    reason = (result.error or "").splitlines()[0].replace("[", r"\[") if result.error else ""
    return f"{MARKS.get(result.status, '')} {name:<40} [dim]{reason}[/]"


def backfill_payload(result: BackfillResult) -> dict[str, object]:
    return {
        "backfill_id": result.backfill_id,
        "status": result.status,
        "resumed": result.resumed,
        "partitions_done": result.count("success"),
        "partitions_failed": result.count("failed"),
        "partitions_skipped": result.count("skipped"),
        "partitions_already_done": result.count("done"),
        "rows": result.rows,
        "partitions": [
            {"model": p.model, "partition": p.partition, "status": p.status, "rows": p.rows,
             "version": p.version, "run_id": p.run_id, "error": p.error}
            for p in result.partitions
        ],
        "runs": [{"run_id": r.run_id, "status": r.status} for r in result.runs],
    }


def render_summary(console: Console, result: BackfillResult) -> None:
    style = "green" if result.status == "success" else "red"
    parts = [f"{result.count('success')} partitions built", f"{result.count('failed')} failed",
             f"{result.count('skipped')} skipped"]
    if result.count("done"):
        parts.append(f"{result.count('done')} already done")
    console.line(f"[{style}]backfill {result.backfill_id} {result.status}[/]: "
                 f"{', '.join(parts)}; {result.rows:,} rows")
    for failed in (p for p in result.partitions if p.status == "failed"):
        console.error(f"{failed.model} {failed.partition}: {failed.error}")
    for run in result.runs:
        if run.status != "success":
            console.error(f"run {run.run_id} of the other selected models {run.status}")
    if result.status != "success":
        console.line(f"finish it with `afluente backfill --resume {result.backfill_id}`")
