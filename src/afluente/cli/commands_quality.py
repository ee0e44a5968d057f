"""`afluente check`, `quality` and `profile`: data quality without rebuilding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from afluente.cli.app import app
from afluente.cli.console import Console
from afluente.cli.context import state_of
from afluente.errors import AfluenteError

_COLUMNS = ["model", "rule", "kind", "action", "rows_evaluated", "rows_failed", "failed_pct",
            "passed"]


class QualityGateError(AfluenteError):
    """A `fail` expectation does not pass on the current data (exit code 1)."""


def _table(console: Console, rows: list[dict[str, Any]]) -> None:
    console.table(_COLUMNS, [[r[c] for c in _COLUMNS] for r in rows])


def write_page(path: Path, text: str) -> Path:
    """Write an HTML page; return where it went (absolute), or say why it could not."""
    target = path.expanduser().resolve()
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise AfluenteError(
            f"cannot write the HTML page to {target}: {exc.strerror or exc}",
            hint="pass --html a file path in a folder that exists and that you can write to",
        ) from None
    return target


def _wrote(console: Console, page: Path | None) -> None:
    if page is not None:
        console.line(f"wrote {page}")


@app.command()
def check(
    ctx: typer.Context,
    select: str = typer.Argument(None, help="Models to check (same selectors as run)."),
) -> None:
    """Evaluate expectations against the current data, without rebuilding."""
    from afluente.runtime.quality_check import check_project

    cli = state_of(ctx)
    results = check_project(cli.project(), select)
    rows = [r.to_row() for r in results]
    cli.console.emit({"results": rows}, lambda console: _table(console, rows))
    stopped = [f"{r.model}.{r.rule}" for r in results if r.stops]
    if stopped:
        raise QualityGateError(f"failing `fail` expectations: {', '.join(stopped)}",
                               hint="see `afluente quality` for samples of the failing rows")


@app.command()
def quality(
    ctx: typer.Context,
    html: Path = typer.Option(None, "--html", help="Write a standalone HTML report here."),
) -> None:
    """Summarise the latest evaluation of every expectation the project defines now
    (history: afluente.quality_results)."""
    from afluente.governance.reader import GovernedReader
    from afluente.governance.scan import governed_samples
    from afluente.model import load_graph
    from afluente.quality.latest import current_results, defined_expectations
    from afluente.quality.report_html import render_report
    from afluente.state import StateStore

    cli = state_of(ctx)
    project = cli.project()
    with StateStore.open(project.state_url) as state:
        history = governed_samples(GovernedReader.open(project), state.quality_history())
    shown, pending = current_results(history, defined_expectations(load_graph(project)))
    current = {(r["model"], r["rule"]) for r in shown}
    kept = [r for r in history if (r["model"], r["rule"]) in current]
    page = None if html is None else write_page(
        html, render_report(kept, f"Data quality: {project.config.name}")
    )
    latest = [dict(r, ts=str(r["ts"])) for r in shown]
    payload: dict[str, Any] = {"results": latest,
                               "failing": sum(not r["passed"] for r in latest),
                               "not_evaluated": pending}
    if page is not None:
        payload["html"] = str(page)

    def render(console: Console) -> None:
        _table(console, latest)
        if pending:
            console.line("not evaluated since defined or changed (run or `afluente check`): "
                         + ", ".join(f"{p['model']}.{p['rule']}" for p in pending))
        _wrote(console, page)

    cli.console.emit(payload, render)


@app.command()
def profile(
    ctx: typer.Context,
    table: str = typer.Argument(..., help="The table to profile, as layer.table."),
    html: Path = typer.Option(None, "--html", help="Write the profile as an HTML page."),
    suggest: bool = typer.Option(False, "--suggest", help="Print starter expectations."),
) -> None:
    """Profile a table: per column type, nulls, distinct, range, top values, histogram."""
    import yaml

    from afluente.quality.profile import render_profile
    from afluente.quality.profile import suggest as suggested
    from afluente.runtime.quality_check import profile_table

    cli = state_of(ctx)
    profiles = profile_table(cli.project(), table)
    page = None if html is None else write_page(html, render_profile(table, profiles))
    rows = [{"column": p.name, "type": p.type, "null_pct": p.null_pct, "distinct": p.distinct,
             "min": p.min, "max": p.max, "mean": p.mean, "top": p.top,
             "histogram": p.histogram} for p in profiles]
    starters = suggested(profiles) if suggest else []

    def render(console: Console) -> None:
        heads = ["column", "type", "null_pct", "distinct", "min", "max", "mean"]
        console.table(heads, [[r[h] for h in heads] for r in rows])
        if starters:
            console.line(yaml.safe_dump({"expectations": starters}, sort_keys=False))
        _wrote(console, page)

    payload: dict[str, Any] = {"table": table, "columns": rows, "suggested": starters}
    if page is not None:
        payload["html"] = str(page)
    cli.console.emit(payload, render)
