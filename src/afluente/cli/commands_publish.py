"""`afluente publish`: copy gold tables to the project's sinks (data marts)."""

from __future__ import annotations

import sys
from typing import Any

import typer

from afluente.cli.app import app
from afluente.cli.commands_run import SELECT_HELP
from afluente.cli.console import Console
from afluente.cli.context import state_of

COLUMNS = ["sink", "table", "target", "mode", "status", "version", "rows", "duration_s"]


@app.command()
def publish(
    ctx: typer.Context,
    select: str = typer.Option(None, "--select", "-s", help=SELECT_HELP),
    sink: str = typer.Option(None, "--sink", help="Publish to this sink only."),
    force: bool = typer.Option(False, "--force", help="Publish even versions already there."),
) -> None:
    """Publish each sink's tables at their current version; skip versions already published."""
    from afluente.runtime.publish import publish_project

    cli = state_of(ctx)
    result = publish_project(cli.project(), select, sink, force=force)
    tables = [outcome_payload(o) for o in result.outcomes]
    payload = {"run_id": result.run_id, "tables": tables}

    def render(console: Console) -> None:
        rows = [[t[c] for c in COLUMNS] for t in tables]
        console.table(COLUMNS, rows, title=f"publish {result.run_id}")
        for failed in result.failed:
            console.error(failed.error.render() if failed.error else failed.table)

    cli.console.emit(payload, render)
    if result.failed:
        sys.exit(1)


def outcome_payload(outcome: Any) -> dict[str, Any]:
    return {"sink": outcome.sink, "table": outcome.table, "target": outcome.target,
            "mode": outcome.mode, "status": outcome.status, "version": outcome.version,
            "rows": outcome.rows, "duration_s": round(outcome.duration_s, 3),
            "error": outcome.error.render() if outcome.error else None}
