"""`afluente repair`: rebuild a damaged table from upstream, or restore its last readable
version, and say what was lost."""

from __future__ import annotations

from typing import Any

import typer

from afluente.cli.app import app
from afluente.cli.console import Console
from afluente.cli.context import state_of
from afluente.errors import AfluenteError


@app.command()
def repair(
    ctx: typer.Context,
    table: str = typer.Argument(..., help="layer.table"),
    rebuild: bool = typer.Option(
        False, "--rebuild", help="Move the table aside (kept) and rebuild it from upstream."
    ),
    restore: bool = typer.Option(
        False, "--restore", help="Go back to the table's last readable version."
    ),
) -> None:
    """Restore or rebuild a damaged table (unreadable Delta log, missing data file).

    Without an option, say what is damaged and what each way out would lose."""
    from afluente.model import load_graph
    from afluente.runtime.repair import diagnose, repair

    cli = state_of(ctx)
    project = cli.project()
    ref = load_graph(project).resolve(table)
    if rebuild and restore:
        raise AfluenteError("choose one of --rebuild and --restore", table=str(ref))
    if not rebuild and not restore:
        damage = diagnose(project, ref)
        _explain(cli.console, str(ref), damage.render() if damage else None)
        return
    done = repair(project, ref, "rebuild" if rebuild else "restore")
    payload: dict[str, Any] = {"table": done.table, "mode": done.mode, "version": done.version,
                               "lost": done.lost,
                               "kept_at": str(done.kept_at) if done.kept_at else None}
    if done.run is not None and done.run.status != "success":
        failed = "; ".join(f"{m.ref}: {m.reason}" for m in done.run.failed)
        raise AfluenteError(f"rebuilding `{ref}` failed: {failed}", table=str(ref),
                            hint=f"the damaged files are kept at {done.kept_at}")

    def render(console: Console) -> None:
        how = "rebuilt from upstream" if done.mode == "rebuild" else "restored"
        console.line(f"[green]✓[/] {ref} {how}: now at v{done.version}")
        for item in done.lost or ["nothing"]:
            console.line(f"  lost: {item}")
        if done.kept_at is not None:
            console.line(f"  moved files kept at {done.kept_at}", "dim")

    cli.console.emit(payload, render)


def _explain(console: Console, table: str, damage: str | None) -> None:
    payload = {"table": table, "damage": damage}

    def render(c: Console) -> None:
        if damage is None:
            c.line(f"{table} reads fine: nothing to repair")
            return
        c.line(damage.split("\n")[0], "red")
        c.line(f"  afluente repair {table} --restore: back to its last readable version; the "
               "versions after it are lost (their files are kept aside) and the next run "
               "rebuilds what they held")
        c.line(f"  afluente repair {table} --rebuild: moved aside (kept) and rebuilt from "
               "upstream; its history is lost, and so are rows an incremental build kept that "
               "upstream no longer holds")

    console.emit(payload, render)
