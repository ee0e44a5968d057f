"""`afluente demo-stream`: the demo's streaming part, order events on a topic driving a live
gold table."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import typer

from afluente.cli.app import app
from afluente.cli.commands_run import run_payload
from afluente.cli.console import Console
from afluente.cli.context import state_of

GOLD = "gold.revenue_by_state_minute"
LIVE_SQL = (f"SELECT uf, minute, orders, revenue FROM {GOLD} "
            f"WHERE minute = (SELECT max(minute) FROM {GOLD}) ORDER BY revenue DESC LIMIT 5")
TOTAL_SQL = f"SELECT count(*) AS minutes_states, sum(orders), sum(revenue) FROM {GOLD}"


@app.command("demo-stream")
def demo_stream(
    ctx: typer.Context,
    directory: Path = typer.Option(Path("demo-stream"), "--dir",
                                   help="Where to write the streaming project."),
    seconds: float = typer.Option(20.0, "--seconds", help="How long the checkout produces."),
    rate: float = typer.Option(200.0, "--rate", help="Order events per second."),
    trigger: str = typer.Option("1s", "--trigger", "-t", help="Micro-batch interval."),
    bootstrap: str = typer.Option(
        None, "--bootstrap",
        help="A running Kafka broker (host:port) to use; default: start a local tansu broker "
        "(pip install 'afluente[stream-demo]') for the demo's duration.",
    ),
    seed: int = typer.Option(42, "--seed", help="Seed of the order events."),
) -> None:
    """Order events on a Kafka topic drive a live gold table: a checkout produces RATE events
    a second for SECONDS while `afluente stream` keeps bronze -> silver -> gold a
    micro-batch behind it; then the stream drains and stops."""
    import threading

    from afluente.connectors.kafka.local_broker import local_broker
    from afluente.runtime import RunResult
    from afluente.runtime.query import query_rows
    from afluente.runtime.stream_demo import prepare_stream_demo, run_stream_demo
    from afluente.scheduler import stop_on_signals

    cli = state_of(ctx)
    console = cli.console
    stop = threading.Event()
    stop_on_signals(stop)
    batches: list[dict[str, object]] = []
    broker: AbstractContextManager[str] = (
        nullcontext(bootstrap) if bootstrap else local_broker())
    with broker as address:
        if not console.json_mode:
            console.line(f"broker {address}: producing {rate:g} order events/s for "
                         f"{seconds:g} s to topic `orders`, micro-batches every {trigger}")

        project = prepare_stream_demo(directory, address)

        def on_batch(number: int, result: RunResult) -> None:
            batches.append({"micro_batch": number, **run_payload(result)})
            if not console.json_mode:
                _render_batch(console, number, result, lambda: query_rows(project, LIVE_SQL))

        outcome = run_stream_demo(project, address, seconds=seconds, rate=rate,
                                  trigger=trigger, seed=seed, stop=stop, on_batch=on_batch)
    totals = query_rows(project, TOTAL_SQL)
    payload = {"project": str(directory.resolve()), "events": outcome.events,
               "micro_batches": outcome.batches, "rows": outcome.rows,
               "stopped": outcome.stopped, "runs": batches}

    def render(c: Console) -> None:
        ((cells, orders, revenue),) = totals.rows
        c.line(f"{'stopped' if outcome.stopped else 'drained'}: {outcome.events} events "
               f"produced, {outcome.rows} ingested into bronze in {outcome.batches} "
               f"micro-batches; {GOLD}: {cells} state-minutes, {orders} orders, "
               f"R$ {revenue}")
        p = f"afluente -p {directory}"
        c.line("try next:")
        for hint in (f"{p} query \"select * from {GOLD} order by minute, revenue desc\"",
                     f"{p} history bronze.order_events", f"{p} runs"):
            c.line(f"  {hint}", style="cyan")

    console.emit(payload, render)
    if outcome.stopped:
        sys.exit(130)


def _render_batch(console: Console, number: int, result: object, live: object) -> None:
    from afluente.runtime import RunResult

    assert isinstance(result, RunResult) and callable(live)
    built = {str(m.ref): m.rows or 0 for m in result.models if m.status == "success"}
    if not built.get("bronze.order_events"):
        return
    top = ", ".join(f"{uf} R$ {revenue} ({orders})" for uf, _, orders, revenue in live().rows)
    console.line(f"micro-batch {number}: +{built['bronze.order_events']} events; "
                 f"this minute's top states: {top}")
