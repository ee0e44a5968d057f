"""`afluente maintain`: compact, Z-order, vacuum and checkpoint the tables that declare
`maintenance:` (docs/maintenance.md), printing each table's figures before and after."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from afluente.cli.app import app
from afluente.cli.console import Console
from afluente.cli.context import state_of

if TYPE_CHECKING:
    from afluente.runtime.maintenance import MaintenanceResult


@app.command()
def maintain(
    ctx: typer.Context,
    selector: str = typer.Argument(None, help="Tables to maintain (a selector, as for run)."),
    vacuum: str = typer.Option(
        None, "--vacuum",
        help="Vacuum files removed longer ago than this (`7 days`); never below the "
             "model's `time_travel`."),
    wait: str = typer.Option(
        None, "--wait",
        help="How long to wait for a run holding a table's lock (default `run: lock_timeout`)."),
) -> None:
    """Compact small files, Z-order, vacuum and checkpoint each selected table that declares
    `maintenance:`; content is unchanged. Under governance it takes MODIFY on each table."""
    from rich.progress import Progress

    from afluente.config.maintenance import parse_span
    from afluente.errors import ConfigError
    from afluente.model import load_graph
    from afluente.runtime.maintenance import declared, maintain_tables

    cli = state_of(ctx)
    project = cli.project()
    graph = load_graph(project)
    try:
        retain = None if vacuum is None else parse_span(vacuum)
        patience = None if wait is None else parse_span(wait)
    except ValueError as error:
        raise ConfigError(str(error), hint="for example --vacuum '7 days'") from None
    console = cli.console
    total = len(declared(graph, selector))
    with Progress(console=console.out, transient=True, disable=console.json_mode) as bar:
        task = bar.add_task("maintaining", total=total)

        def started(table: str) -> None:
            bar.update(task, description=f"maintaining {table}", advance=1)

        results = maintain_tables(project, selector, vacuum=retain, graph=graph,
                                  wait=patience, on_table=started)
    console.emit([r.as_json() for r in results], lambda c: render_maintenance(c, results))


def render_maintenance(console: Console, results: list[MaintenanceResult]) -> None:
    if not results:
        console.line("no built table declares `maintenance:`", "dim")
        return
    rows = []
    for result in results:
        before, after = result.done.before, result.done.after
        query = ("-" if before.query_s is None or after.query_s is None
                 else f"{before.query_s * 1000:.1f} → {after.query_s * 1000:.1f} ms")
        matching = ("-" if before.files_matching is None or after.files_matching is None
                    else f"{before.files_matching} → {after.files_matching}")
        rows.append([result.table, f"{before.files} → {after.files}",
                     f"{before.bytes:,} → {after.bytes:,}", matching, query,
                     result.done.files_vacuumed, result.done.checkpoint or "-"])
    console.table(["table", "files", "bytes", "files a filter reads", "filtered query",
                   "vacuumed", "checkpoint"], rows, title="maintenance")
    for result in results:
        if result.probe is not None:
            console.line(f"{result.table}: filter {result.probe.column} = "
                         f"{result.probe.value!r}", "dim")
