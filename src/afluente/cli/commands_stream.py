"""`afluente stream`: streaming sources and their downstream tables in micro-batches."""

from __future__ import annotations

import typer

from afluente.cli.app import app
from afluente.cli.commands_run import SELECT_HELP, run_payload
from afluente.cli.console import Console
from afluente.cli.context import state_of

TRIGGER_HELP = (
    "When micro-batches run: an interval (`1s`, `500ms`, `2m`: continuous, until SIGTERM or "
    "Ctrl-C) or `available-now` (drain what the sources hold, then stop)."
)


@app.command()
def stream(
    ctx: typer.Context,
    trigger: str = typer.Option("1s", "--trigger", "-t", help=TRIGGER_HELP),
    select: str = typer.Option(
        None, "--select", "-s",
        help="Tables to include (default: every streaming source and its downstream). "
        + SELECT_HELP,
    ),
    max_records: int = typer.Option(
        None, "--max-records", min=1,
        help="At most this many messages (or, for postgres_cdc, about this many changes, "
        "in whole transactions) per source and micro-batch (default: each source's "
        "`max_records`).",
    ),
    max_bytes: str = typer.Option(
        None, "--max-bytes",
        help="At most this many bytes (`64 MiB`, `1 GB` or a number) of messages or files "
        "per kafka or files source and micro-batch (default: each source's `max_bytes`).",
    ),
) -> None:
    """Run the streaming sources (`type: kafka`, `postgres_cdc`, files with `stream: true`)
    and the tables downstream of them as micro-batches, exactly once. SIGTERM or Ctrl-C
    finishes the current micro-batch, then stops; a restart resumes from the source
    positions committed in bronze."""
    import threading

    from afluente.runtime import RunResult
    from afluente.runtime.stream import (
        parse_trigger,
        stream_project,
        with_max_bytes,
        with_max_records,
    )
    from afluente.scheduler import stop_on_signals

    cli = state_of(ctx)
    console = cli.console
    project = with_max_bytes(with_max_records(cli.project(), max_records), max_bytes)
    parsed = parse_trigger(trigger)
    stop = threading.Event()
    stop_on_signals(stop)
    batches: list[dict[str, object]] = []

    def on_batch(number: int, result: RunResult) -> None:
        payload = run_payload(result)
        batches.append({"micro_batch": number, **payload})
        if not console.json_mode:
            _render_batch(console, number, result)

    outcome = stream_project(project, parsed, selector=select, stop=stop, on_batch=on_batch)
    summary = {"trigger": parsed.text, "micro_batches": outcome.batches,
               "rows": outcome.rows, "stopped": outcome.stopped}
    console.emit({**summary, "runs": batches}, lambda c: c.line(
        f"stream {'stopped' if outcome.stopped else 'drained'} after {outcome.batches} "
        f"micro-batches, {outcome.rows} source rows"))


def _render_batch(console: Console, number: int, result: object) -> None:
    from afluente.runtime import RunResult

    assert isinstance(result, RunResult)
    built = [m for m in result.models if m.status == "success"]
    if not built:
        return
    tables = ", ".join(f"{m.ref} +{m.rows or 0}" for m in built)
    console.line(f"micro-batch {number} (run {result.run_id}): {tables}")
