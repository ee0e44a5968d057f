"""`afluente health` (the five pillars per table) and `afluente metrics serve` (Prometheus)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from afluente.cli.app import app
from afluente.cli.console import Console
from afluente.cli.context import state_of

metrics_app = typer.Typer(help="Metrics for monitoring systems.", no_args_is_help=True)
app.add_typer(metrics_app, name="metrics")

_STYLES = {"ok": "green", "warning": "yellow", "error": "bold red", "unknown": "dim"}


@app.command()
def health(
    ctx: typer.Context,
    selector: str = typer.Argument(None, help="Tables to show (a selector, as for run)."),
    html: Path = typer.Option(None, "--html", help="Write a standalone HTML report here."),
    alert: bool = typer.Option(
        False, "--alert", help="Check freshness now; open incidents and send alerts."
    ),
) -> None:
    """Freshness, volume, schema, distribution and lineage of every table."""
    from afluente.observability import check_project
    from afluente.observability.health import project_health
    from afluente.observability.html_report import render_html

    cli = state_of(ctx)
    project = cli.project()
    if alert:
        check_project(project)
    tables = project_health(project, selector)
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(project.config.name, tables), encoding="utf-8")

    def render(console: Console) -> None:
        columns = ["table", "freshness", "volume", "schema", "distribution", "lineage"]
        rows = [
            [t.table, *(f"[{_STYLES[s]}]{s}[/]" for s in t.pillars.values())] for t in tables
        ]
        console.table(columns, rows, title="health")
        for table in tables:
            if table.stream is not None:
                console.line(_stream_line(table.table, table.stream))
            if table.damage:
                console.line(f"{table.table}: {table.damage}", "red")
            for incident in table.incidents:
                console.line(f"{table.table} {incident.pillar}: {incident.message}", "yellow")
        if html is not None:
            console.line(f"report written to {html}", "dim")

    cli.console.emit({"tables": [t.as_json() for t in tables]}, render)


@metrics_app.command("serve")
def metrics_serve(
    ctx: typer.Context,
    port: int = typer.Option(9464, "--port", help="Port of the /metrics endpoint."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
) -> None:
    """Serve run counts, durations, rows, freshness lag and open incidents to Prometheus."""
    from afluente.observability.prometheus import serve

    cli = state_of(ctx)
    server = serve(cli.project(), port, host)
    cli.console.line(f"serving Prometheus metrics on http://{host}:{port}/metrics", "dim")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:  # Ctrl-C is how a person stops it: no traceback
        server.shutdown()


def _stream_line(table: str, progress: dict[str, object]) -> str:
    """`bronze.x stream: lag 12 messages (...), latency 1.4 s, micro-batch 0.6 s (at ...)`."""
    lag = progress.get("lag") or {}
    assert isinstance(lag, dict)
    parts = ", ".join(f"{p} {n}" for p, n in lag.items())
    latency = progress.get("latency_s")
    said = [f"lag {progress.get('lag_total', 0)} messages" + (f" ({parts})" if parts else "")]
    if latency is not None:
        said.append(f"end-to-end latency {latency} s")
    said.append(f"micro-batch {progress.get('duration_s')} s, {progress.get('rows')} rows")
    return f"{table} stream: {', '.join(said)} (at {progress.get('at')})"
