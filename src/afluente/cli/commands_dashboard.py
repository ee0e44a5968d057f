"""`afluente dashboard list|export`: the dashboards declared in `dashboards/*.yml`
(docs/dashboards.md); `export` writes one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from afluente.cli.app import app
from afluente.cli.console import Console
from afluente.cli.context import state_of
from afluente.errors import ConfigError

dashboard_app = typer.Typer(help="Dashboards over the gold marts: list them, export one to "
                                 "an HTML file.", no_args_is_help=True)
app.add_typer(dashboard_app, name="dashboard")


@dashboard_app.command("list")
def dashboard_list(ctx: typer.Context) -> None:
    """The project's dashboards (each file checked: a mistake is reported with its line)."""
    from afluente.dashboards import load_dashboards
    from afluente.dashboards.page_data import dashboard_summary

    cli = state_of(ctx)
    found = [dashboard_summary(d) for d in load_dashboards(cli.project())]

    def render(c: Console) -> None:
        if not found:
            c.line("no dashboards: declare one in dashboards/NAME.yml (docs/dashboards.md)")
            return
        c.table(["name", "title", "panels", "filters"],
                [[d["name"], d["title"], ", ".join(d["panels"]), ", ".join(d["filters"])]
                 for d in found])

    cli.console.emit({"dashboards": found}, render)


@dashboard_app.command("export")
def dashboard_export(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The dashboard (its file's name without .yml)."),
    out: Path = typer.Option(..., "--out", "-o", help="The HTML file to write."),
    filters: list[str] = typer.Option([], "--filter", "-f",
                                      help="A filter's value, NAME=VALUE (repeatable); "
                                           "NAME= for all."),
) -> None:
    """Query every panel now (as you: masks and row filters apply) and write the dashboard,
    its data and its scripts into one HTML file that opens from disk."""
    from rich.progress import Progress

    from afluente.dashboards import find_dashboard
    from afluente.dashboards.export import static_dashboard, write_export
    from afluente.governance.reader import GovernedReader

    cli = state_of(ctx)
    project = cli.project()
    dashboard = find_dashboard(project, name)
    given = _filter_values(filters)
    console = cli.console
    with Progress(console=getattr(console, "out", None), transient=True,
                  disable=console.json_mode) as bar:
        task = bar.add_task(f"querying {name}", total=len(dashboard.panels))
        page = static_dashboard(project, dashboard, given, GovernedReader.open(project),
                                lambda panel: bar.advance(task))
    written = write_export(out, page)
    payload: dict[str, Any] = {"dashboard": name, "out": str(written.resolve()),
                               "panels": len(dashboard.panels),
                               "rows": sum(len(d["rows"]) for d in page["data"].values()),
                               "bytes": written.stat().st_size}
    console.emit(payload, lambda c: c.line(
        f"wrote {written} ({payload['panels']} panels, {payload['rows']} rows, "
        f"{payload['bytes'] // 1024} KiB): open it in a browser, no server needed"))


def _filter_values(pairs: list[str]) -> dict[str, str | None]:
    given: dict[str, str | None] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--filter {pair!r} is not NAME=VALUE",
                              hint="e.g. --filter uf=SP (or --filter uf= for all states)")
        given[key.strip()] = value or None
    return given
