"""`afluente validate`, `plan` and `run`."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import typer

from afluente.cli.app import app
from afluente.cli.console import Console
from afluente.cli.context import CliState, state_of

if TYPE_CHECKING:
    from afluente.config import Project

SELECT_HELP = (
    "Tables to include: silver.orders, +silver.orders (with upstream), silver.orders+ "
    "(with downstream), layer:gold, tag:finance; space = union, comma = intersection."
)


@app.command()
def validate(ctx: typer.Context) -> None:
    """Check the whole project (config, models, SQL, references, cycles) without running it."""
    from afluente.cli.lean_imports import pyarrow_without_pandas

    # no model's function runs here; another engine (pyspark) may convert through pandas
    cli = state_of(ctx)
    project = cli.project()
    with pyarrow_without_pandas(when=_duckdb_only(project)):
        _validate(cli, project)


def _validate(cli: CliState, project: Project) -> None:
    from afluente.connectors import validate_sources
    from afluente.engines.registry import validate_engine
    from afluente.model import load_graph
    from afluente.sinks import validate_sinks

    validate_sources(project)
    validate_engine(project)
    graph = load_graph(project)
    from afluente.runtime.engine_fit import check_engine_fits

    check_engine_fits(project, graph, graph.order)
    validate_sinks(project, graph)
    from afluente.runtime.model_binding import bind_models

    binding = bind_models(project, graph)
    if any(graph[ref].config.expectations for ref in graph.order):  # sqlglot, lineage: 0.3 s
        from afluente.runtime.quality_validate import validate_expectations

        validate_expectations(project, graph)
    from afluente.scheduler import validate_orchestration

    validate_orchestration(project, graph)
    if any(graph[ref].table_kind.time_partitioned for ref in graph.order):  # lineage: 0.3 s
        from afluente.runtime.partition_checks import check_partition_columns

        check_partition_columns(project, graph)
    layers: dict[str, int] = {}
    for ref in graph.order:
        layers[ref.layer] = layers.get(ref.layer, 0) + 1
    payload = {"valid": True, "project": project.config.name, "tables": len(graph),
               "layers": layers, "bound": len(binding.bound),
               "not_bound": {str(m): str(up) for m, up in binding.skipped.items()}}
    summary = ", ".join(f"{n} {layer}" for layer, n in layers.items())

    def render(console: Console) -> None:
        console.line(f"[green]✓[/] {project.config.name}: {len(graph)} tables valid ({summary})")
        if binding.skipped:
            console.line(_unbound_note(binding.skipped))

    cli.console.emit(payload, render)


def _unbound_note(skipped: Mapping[Any, Any]) -> str:
    shown = "; ".join(f"{model} (needs {up})" for model, up in list(skipped.items())[:5])
    more = f"; and {len(skipped) - 5} more" if len(skipped) > 5 else ""
    return (f"note: {len(skipped)} SQL models not bound, a table upstream has no schema yet: "
            f"{shown}{more}; build those tables once to check these models' columns")


DATA_ENV_HELP = ("Data environment (docs/environments.md), e.g. `dev`; not the config "
                 "environment `afluente --env X` selects before the command.")


@app.command()
def plan(
    ctx: typer.Context,
    select: str = typer.Option(None, "--select", "-s", help=SELECT_HELP),
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Rebuild everything."),
    data_env: str = typer.Option(None, "--env", help=DATA_ENV_HELP),
    base: str = typer.Option("prod", "--base", help="The environment `--env` is based on."),
    expires_after: str = typer.Option(
        None, "--expires-after", help="A new `--env` expires after this long (7d, 12h)."),
) -> None:
    """Show what `afluente run` would build, and why; with `--env NAME`, plan a data
    environment: each model changed against its base, breaking or not."""
    from afluente.cli.lean_imports import pyarrow_without_pandas

    if data_env is not None:
        from afluente.cli.commands_env import plan_env

        if select is not None or full_refresh:
            raise typer.BadParameter("`--env` plans every model against its base; leave "
                                     "out `--select` and `--full-refresh`")
        plan_env(ctx, data_env, base, expires_after)
        return
    with pyarrow_without_pandas():  # no model's function runs here
        _plan(ctx, select, full_refresh)


def _plan(ctx: typer.Context, select: str | None, full_refresh: bool) -> None:
    from afluente.runtime import plan_project
    from afluente.runtime.engine_fit import model_engine

    cli = state_of(ctx)
    project = cli.project()
    planned = plan_project(project, select, full_refresh)
    steps = planned.plan.steps
    engines = [model_engine(project, s.node) for s in steps]
    payload = {
        "steps": [
            {"table": str(s.ref), "kind": s.node.kind, "engine": engine, "action": s.action,
             "reason": s.reason}
            for s, engine in zip(steps, engines, strict=True)
        ]
    }

    def render(console: Console) -> None:
        rows = [[str(s.ref), s.node.kind, s.action, s.reason] for s in steps]
        header = ["table", "kind", "action", "reason"]
        if len(set(engines)) > 1:  # which engine builds each model, when there is a choice
            rows = [[*row[:2], engine, *row[2:]] for row, engine in zip(rows, engines,
                                                                        strict=True)]
            header = [*header[:2], "engine", *header[2:]]
        console.table(header, rows)
        console.line(f"{len(planned.plan.to_run)} to build, "
                     f"{len(steps) - len(planned.plan.to_run)} up to date")

    cli.console.emit(payload, render)


@app.command()
def run(
    ctx: typer.Context,
    select: str = typer.Option(None, "--select", "-s", help=SELECT_HELP),
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Rebuild everything."),
    workers: int = typer.Option(
        None, "--workers", "-w", min=1, help="Models built at once (default: `run: workers`)."
    ),
    retries: int = typer.Option(
        None, "--retries", min=0,
        help="Retries of a transient failure per model (default: `run: retries`; 0 when "
        "another orchestrator retries).",
    ),
    data_env: str = typer.Option(None, "--env", help=DATA_ENV_HELP),
) -> None:
    """Build the selected tables in dependency order, in parallel; failures skip only their
    downstream. With `--env NAME`: the environment's changed tables, in its own location."""
    if data_env is not None:
        from afluente.cli.commands_env import env_selector
        from afluente.runtime.environments import in_environment

        if select is not None:
            raise typer.BadParameter("`--env` builds what the environment's plan names; "
                                     "leave out `--select`")
        with in_environment(data_env):
            _run_and_report(ctx, env_selector(ctx, data_env), workers=workers,
                            retries=retries, trigger={"environment": data_env})
        return
    _run_and_report(ctx, select, full_refresh=full_refresh, workers=workers, retries=retries)


@app.command()
def retry(
    ctx: typer.Context,
    run_id: str = typer.Argument(None, help="The run to retry (default: the latest failed run)."),
    workers: int = typer.Option(None, "--workers", "-w", min=1, help="Models built at once."),
) -> None:
    """Run again only what failed, was skipped or never started in a run."""
    from afluente.runtime.retry import retry_selection

    cli = state_of(ctx)
    project = cli.project()
    target, selector = retry_selection(project, run_id)
    if selector is None:
        cli.console.emit(
            {"retry_of": target, "status": "nothing_to_retry"},
            lambda c: c.line(f"run {target}: every model succeeded or was up to date; "
                             "nothing to retry"),
        )
        return
    _run_and_report(ctx, selector, workers=workers, trigger={"retry_of": target})


def _run_and_report(
    ctx: typer.Context,
    select: str | None,
    *,
    full_refresh: bool = False,
    workers: int | None = None,
    retries: int | None = None,
    trigger: dict[str, object] | None = None,
) -> None:
    from afluente.cli.lean_imports import pyarrow_without_pandas

    cli = state_of(ctx)
    console = cli.console
    project = cli.project()
    with pyarrow_without_pandas(when=_duckdb_only(project) and not _has_python_models(project)):
        from afluente.cli.run_reporter import RichRunReporter
        from afluente.runtime import SilentReporter, run_project

        reporter = SilentReporter() if console.json_mode else RichRunReporter(console, project)
        result = run_project(project, select, full_refresh=full_refresh, reporter=reporter,
                             workers=workers, retries=retries, trigger=trigger)
    console.emit(run_payload(result), lambda c: render_run_summary(c, result))
    if result.status != "success":
        sys.exit(1)


def _duckdb_only(project: Project) -> bool:
    """Whether every engine the project declares is DuckDB (pyspark converts via pandas)."""
    config = project.config
    return all(e.type == "duckdb" for e in (config.engine, *config.engines.values()))


def _has_python_models(project: Project) -> bool:
    """Whether any model file is Python (its function may use pandas)."""
    folder = project.models_dir
    return folder.is_dir() and next(folder.rglob("*.py"), None) is not None


def run_payload(result: object) -> dict[str, object]:
    from afluente.runtime import RunResult

    assert isinstance(result, RunResult)
    return {
        "run_id": result.run_id,
        "status": result.status,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "models": [
            {
                "table": str(m.ref),
                "status": m.status,
                "reason": m.reason,
                "rows": m.rows,
                "table_rows": m.table_rows,
                "quality": m.quality.to_dict() if m.quality is not None else None,
                "version": m.version,
                "duration_s": round(m.duration_s, 3),
                "attempts": m.attempts,
            }
            for m in result.models
        ],
        "published": [
            {
                "sink": p.sink,
                "table": p.table,
                "target": p.target,
                "status": p.status,
                "version": p.version,
                "rows": p.rows,
                "error": p.error.render() if p.error is not None else None,
            }
            for p in result.published
        ],
    }


def render_run_summary(console: Console, result: object) -> None:
    from afluente.runtime import RunResult

    assert isinstance(result, RunResult)
    seconds = (result.finished_at - result.started_at).total_seconds()
    counts = ", ".join(
        f"{result.count(s)} {s.replace('_', ' ')}"
        for s in ("success", "up_to_date", "failed", "skipped")
        if result.count(s)
    )
    style = "green" if result.status == "success" else "red"
    console.line(f"[{style}]run {result.run_id} {result.status}[/] in {seconds:.1f}s: {counts}")
    for failed in result.failed:
        tries = f" (after {failed.attempts} attempts)" if failed.attempts > 1 else ""
        console.error(f"{failed.ref} failed{tries}: {failed.reason}")
    skipped = [m for m in result.models if m.status == "skipped"]
    if skipped:
        console.line(f"[yellow]skipped {len(skipped)}:[/] " + "; ".join(
            f"{m.ref} ({m.reason})" for m in skipped[:10]
        ) + (f"; and {len(skipped) - 10} more" if len(skipped) > 10 else ""))
        console.line(f"retry what failed or was skipped with `afluente retry {result.run_id}`")
    for published in result.published:
        if published.error is not None:
            console.error(
                f"publishing `{published.table}` to sink `{published.sink}` failed: "
                + published.error.render()
            )
