"""Live progress of a run in the terminal (implements the runtime's Reporter)."""

from __future__ import annotations

from collections import Counter

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from afluente.cli.console import Console
from afluente.config import Project
from afluente.connectors import IngestStats
from afluente.model import TableRef
from afluente.runtime import ModelResult, Plan, PlanStep, RunResult

MARKS = {
    "success": "[green]✓[/]",
    "up_to_date": "[dim]=[/]",
    "skipped": "[yellow]↷[/]",
    "failed": "[red]✗[/]",
}


class RichRunReporter:
    def __init__(self, console: Console, project: Project | None = None) -> None:
        self.console = console
        self.project = project
        self.engines: dict[TableRef, str] = {}  # filled when models run on several engines
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console.out,
            transient=True,
        )
        self.task = self.progress.add_task("starting", total=0)
        self.ingested: dict[TableRef, IngestStats] = {}
        # up-to-date models' lines, printed together when a model starts or the run ends:
        # one print per line under the live progress bar was 1.8 s of a profiled no-op run
        # of 1,000 models (at load 12; bench/RESULTS.md §20)
        self.up_to_date: list[str] = []

    def plan_ready(self, run_id: str, plan: Plan) -> None:
        todo = len(plan.to_run)
        self.console.line(
            f"run [bold]{run_id}[/]: {todo} to build, {len(plan.steps) - todo} up to date"
            + self._engines_of(plan)
        )
        self.progress.update(self.task, total=len(plan.steps), description="running")
        self.progress.start()

    def _engines_of(self, plan: Plan) -> str:
        """`; engines: duckdb 4, big 2` when the plan's models run on more than one engine."""
        if self.project is None:
            return ""
        from afluente.runtime.engine_fit import model_engine

        engines = {s.ref: model_engine(self.project, s.node) for s in plan.steps}
        counts = Counter(engines.values())
        if len(counts) < 2:
            return ""
        self.engines = engines
        return "; engines: " + ", ".join(f"{name} {n}" for name, n in counts.items())

    def model_started(self, step: PlanStep) -> None:
        self._print_up_to_date()
        engine = self.engines.get(step.ref)
        where = f" on {engine}" if engine else ""
        self.progress.update(self.task, description=f"building {step.ref}{where}")

    def model_finished(self, result: ModelResult) -> None:
        self.progress.advance(self.task)
        engine = self.engines.get(result.ref)
        where = f"  [dim]{engine}[/]" if engine else ""
        if result.status == "up_to_date":
            self.up_to_date.append(_line(result) + where)
            return
        self._print_up_to_date()
        self.progress.console.print(_line(result) + where, highlight=False)

    def _print_up_to_date(self) -> None:
        if self.up_to_date:
            self.progress.console.print("\n".join(self.up_to_date), highlight=False)
            self.up_to_date.clear()

    def ingest_progress(self, ref: TableRef, stats: IngestStats) -> None:
        seen = self.ingested.get(ref, IngestStats())
        now = IngestStats(
            files=max(seen.files, stats.files),
            rows=max(seen.rows, stats.rows),
            bytes=max(seen.bytes, stats.bytes),
        )
        self.ingested[ref] = now
        parts = [f"{now.rows:,} rows"]
        if now.files:
            parts.insert(0, f"{now.files:,} files")
        if now.bytes:
            parts.append(f"{now.bytes / 1e6:,.1f} MB")
        self.progress.update(self.task, description=f"ingesting {ref}: {', '.join(parts)}")

    def run_finished(self, result: RunResult) -> None:
        self._print_up_to_date()
        self.progress.stop()


def _line(result: ModelResult) -> str:
    """One line per table: the rows its readers see, what quality did, version, time."""
    mark = MARKS[result.status]
    name = f"{result.ref!s:<36}"
    if result.status == "success":
        version = f"v{result.version}" if result.version is not None else ""
        return (f"{mark} {name} {_rows(result)}{quality_summary(result)}  {version:<5} "
                f"{result.duration_s:6.2f}s")
    if result.status == "failed":  # why is printed once, in the run's summary
        return f"{mark} {name} [red]{'failed':>17}[/]  {'':<5} {result.duration_s:6.2f}s"
    if result.status == "up_to_date" and result.table_rows is not None:
        return f"{mark} {name} {_rows(result)}  [dim]{_escape(result.reason)}[/]"
    return f"{mark} {name} [dim]{_escape(result.reason)}[/]"


def _rows(result: ModelResult) -> str:
    shown = result.table_rows if result.table_rows is not None else result.rows
    return f"{shown:>12,} rows" if shown is not None else f"{'view':>17}"


def quality_summary(result: ModelResult) -> str:
    """` · 17 quarantined · 149 dropped · 2 warnings`: only what quality did."""
    tally = result.quality
    if tally is None:
        return ""
    parts = [(tally.quarantined, "quarantined"), (tally.dropped, "dropped"),
             (tally.warnings, "warning" if tally.warnings == 1 else "warnings")]
    return "".join(f" · {count:,} {label}" for count, label in parts if count)


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
