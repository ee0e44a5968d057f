"""`afluente show`, `history`, `query` and `runs`: look at tables and at past runs."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import typer

from afluente.cli.app import app
from afluente.cli.console import Console
from afluente.cli.context import CliState, state_of
from afluente.errors import AfluenteError, DamagedTableError
from afluente.json_values import to_jsonable

if TYPE_CHECKING:
    from afluente.engines.query_rows import QueryRows


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _print_rows(console: Console, result: QueryRows, fmt: Format) -> None:
    if fmt is Format.table and not console.json_mode:
        console.table(result.columns, [list(row) for row in result.rows])
        console.line(f"{len(result.rows)} rows", style="dim")
    elif fmt is Format.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows(result.rows)
        sys.stdout.write(buffer.getvalue())
    else:
        sys.stdout.write(json.dumps(result.records(), default=to_jsonable,
                                    ensure_ascii=False) + "\n")


def _parse_as_of(text: str) -> datetime:
    from afluente.storage.time_travel import as_utc

    try:
        return as_utc(text)
    except AfluenteError as error:
        raise AfluenteError(f"invalid --as-of value {text!r}", hint=error.hint) from None


@app.command()
def show(
    ctx: typer.Context,
    table: str = typer.Argument(..., help="layer.table"),
    version: int = typer.Option(None, "--version", "-v", help="Show this Delta version."),
    as_of: str = typer.Option(None, "--as-of", help="Show the table as of this time (ISO)."),
    limit: int = typer.Option(20, "--limit", "-n", help="Rows to show."),
) -> None:
    """Show rows of a table, now or at a past version (time travel)."""
    from afluente.cli.lean_imports import pyarrow_without_pandas_or_numpy

    with pyarrow_without_pandas_or_numpy():
        _show(state_of(ctx), table, version, as_of, limit)


def _show(cli: CliState, table: str, version: int | None, as_of: str | None, limit: int) -> None:
    from afluente.engines.query_rows import QueryRows
    from afluente.model import load_graph
    from afluente.storage import Warehouse
    from afluente.transform import visible_scan

    project = cli.project()
    ref = load_graph(project).resolve(table)
    moment = _parse_as_of(as_of) if as_of else None
    warehouse = Warehouse(project.warehouse_uri)
    delta = warehouse.open(ref, version=version, as_of=moment)
    dataset = warehouse.readable(ref, delta)
    data = _governed(project, ref, dataset, limit)
    if data is None:  # the caller sees the table whole: Arrow reads it, no engine starts
        columns, visible = visible_scan(dataset.schema)  # apply_changes: no bookkeeping rows
        data = dataset.head(limit, columns=columns, filter=visible)
    console = cli.console
    if not console.json_mode:
        console.line(f"{ref} at version {delta.version()}", style="bold")
    fmt = Format.json if console.json_mode else Format.table
    _print_rows(console, QueryRows.of_arrow(data), fmt)


def _governed(project: Any, ref: Any, dataset: Any, limit: int) -> Any:
    """The rows `show` prints as the governed reader allows them (docs/governance.md)."""
    from afluente.governance.reader import GovernedReader
    from afluente.governance.scan import governed_table, needs_engine

    reader = GovernedReader.open(project)
    return governed_table(project, reader, ref, dataset, limit) \
        if needs_engine(project, reader) else None


@app.command()
def history(
    ctx: typer.Context,
    table: str = typer.Argument(..., help="layer.table"),
    limit: int = typer.Option(None, "--limit", "-n", help="Newest versions to show."),
    schema: bool = typer.Option(
        False, "--schema", help="Only the versions that changed the schema, and how."
    ),
) -> None:
    """List a table's Delta versions with run ids, operations and row counts."""
    from afluente.model import load_graph
    from afluente.storage import Warehouse

    cli = state_of(ctx)
    project = cli.project()
    ref = load_graph(project).resolve(table)
    warehouse = Warehouse(project.warehouse_uri)
    if schema:
        _schema_history(cli, warehouse, ref, limit)
        return
    damage: DamagedTableError | None = None
    try:
        commits = warehouse.history(ref, limit)
    except DamagedTableError as error:  # show what the log still holds, and the way out
        damage, commits = error, warehouse.readable_history(ref)[:limit]
    payload = [
        {"version": c.version, "timestamp": c.timestamp, "operation": c.operation,
         "rows": c.rows_added, "run_id": c.run_id, "fingerprint": c.fingerprint}
        for c in commits
    ]
    columns = ["version", "timestamp", "operation", "rows", "run_id", "fingerprint"]

    def render(console: Console) -> None:
        rows = [[p[c] for c in columns] for p in payload]
        console.table(columns, rows, title=f"history of {ref}")
        if damage is not None:
            console.line(f"warning: {damage.render()}", "red")

    cli.console.emit(payload, render)


def _schema_history(cli: Any, warehouse: Any, ref: Any, limit: int | None) -> None:
    changes = list(reversed(warehouse.schema_history(ref)))[:limit]
    payload = [
        {
            "version": c.version,
            "timestamp": c.timestamp,
            "run_id": c.run_id,
            "change": c.summary,
            "added": [{"column": n, "type": t} for n, t in c.added],
            "removed": [{"column": n, "type": t} for n, t in c.removed],
            "retyped": [{"column": n, "from": a, "to": b} for n, a, b in c.retyped],
            "columns": [{"column": n, "type": t} for n, t in c.columns],
        }
        for c in changes
    ]

    def render(console: Console) -> None:
        rows = [[p["version"], p["timestamp"], p["run_id"], p["change"]] for p in payload]
        console.table(
            ["version", "timestamp", "run_id", "change"], rows, title=f"schema history of {ref}"
        )

    cli.console.emit(payload, render)


@app.command()
def query(
    ctx: typer.Context,
    sql: str = typer.Argument(..., help="One read-only SELECT over layer.table and afluente.*"),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, json or csv."),
) -> None:
    """Run read-only SQL over every table (as layer.table) and the event log (afluente.*)."""
    from afluente.cli.lean_imports import pyarrow_without_pandas_or_numpy
    from afluente.runtime import query_rows

    cli = state_of(ctx)
    with pyarrow_without_pandas_or_numpy():
        result = query_rows(cli.project(), sql)
    _print_rows(cli.console, result, Format.json if cli.json else fmt)


@app.command()
def runs(
    ctx: typer.Context,
    run_id: str = typer.Argument(None, help="A run id (or a unique prefix) to show in detail."),
    limit: int = typer.Option(20, "--limit", "-n", help="Runs to list."),
) -> None:
    """List recent runs, or show one run's models (a run whose process died is marked
    failed first, as the next run would)."""
    from afluente.state.sqlite_read import read_recent_runs, read_run

    cli = state_of(ctx)
    url = cli.project().state_url
    if run_id:  # a healthy SQLite store is read without SQLAlchemy; anything else opens it
        record = read_run(url, run_id)
        _show_run(cli.console, record if record is not None else _stored_runs(url, run_id))
    else:
        records = read_recent_runs(url, limit)
        _list_runs(cli.console, records if records is not None else _stored_runs(url, limit))


def _stored_runs(url: str, which: str | int) -> Any:
    """`which` (a run id, or how many recent runs) read through the state store, after it
    marks runs whose process died as failed."""
    from afluente.state import StateStore
    from afluente.state.locks import reap_dead_runs

    store = StateStore.open(url)
    try:
        reap_dead_runs(store, by="`afluente runs`")
        return store.get_run(which) if isinstance(which, str) else store.list_runs(which)
    finally:
        store.close()


def _list_runs(console: Console, records: list[Any]) -> None:
    payload = [
        {"run_id": r.run_id, "status": r.status, "selector": r.selector,
         "started_at": r.started_at, "finished_at": r.finished_at, "error": r.error}
        for r in records
    ]
    columns = ["run_id", "status", "selector", "started_at", "finished_at"]
    console.emit(payload, lambda c: c.table(columns, [[p[k] for k in columns] for p in payload]))


def _show_run(console: Console, record: Any) -> None:
    models = [
        {"model": m.model, "status": m.status, "rows": m.rows_written,
         "version": m.version_written, "duration_s": m.duration_s, "error": m.error}
        for m in record.models
    ]
    payload = {"run_id": record.run_id, "status": record.status, "started_at": record.started_at,
               "finished_at": record.finished_at, "error": record.error, "models": models}
    columns = ["model", "status", "rows", "version", "duration_s", "error"]

    def render(c: Console) -> None:
        c.line(f"run {record.run_id}: {record.status} (started {record.started_at})")
        c.table(columns, [[m[k] for k in columns] for m in models])

    console.emit(payload, render)
