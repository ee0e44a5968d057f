"""The `afluente` command. Start-up stays fast: heavy libraries load inside commands."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import typer

from afluente.cli.console import Console, JsonConsole
from afluente.cli.context import CliState
from afluente.cli.logs import configure_logging
from afluente.errors import AfluenteError, ConfigError, ModelError

app = typer.Typer(
    name="afluente",
    help="afluente — declare sources and bronze/silver/gold tables; run them on Delta Lake.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main_options(
    ctx: typer.Context,
    project: Path = typer.Option(
        Path("."), "--project", "-p", help="Project folder (or a folder inside it)."
    ),
    env: str = typer.Option(None, "--env", help="Environment from afluente.yml to apply."),
    json_output: bool = typer.Option(False, "--json", help="Machine-readable JSON output."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
) -> None:
    """Global options come before the command: `afluente -p demo run` (`--json` and
    `--debug` may also follow it)."""
    configure_logging(debug)
    ctx.obj = CliState(project_dir=project, environment=env, json=json_output, debug=debug)


def _register() -> None:
    from afluente.cli import (  # noqa: F401
        commands_airflow,
        commands_backfill,
        commands_catalog,
        commands_dashboard,
        commands_demo_stream,
        commands_env,
        commands_governance,
        commands_health,
        commands_keys,
        commands_lgpd,
        commands_lineage,
        commands_maintain,
        commands_project,
        commands_publish,
        commands_quality,
        commands_repair,
        commands_run,
        commands_schedule,
        commands_serve,
        commands_spark,
        commands_stream,
        commands_tables,
        commands_test,
    )


ANYWHERE_FLAGS = ("--json", "--debug")


def flags_first(args: list[str]) -> list[str]:
    """`afluente quality --json` as `afluente --json quality`: the global flags that take no
    value are accepted after the command too (not after a `--`)."""
    end = args.index("--") if "--" in args else len(args)
    flags = [a for a in args[:end] if a in ANYWHERE_FLAGS]
    rest = [a for a in args[:end] if a not in ANYWHERE_FLAGS]
    return [*dict.fromkeys(flags), *rest, *args[end:]]


def exit_code(error: AfluenteError) -> int:
    return 2 if isinstance(error, ConfigError | ModelError) else 1


def main() -> None:
    """Console-script entry point: domain errors become one line and a non-zero exit."""
    _register()
    args = flags_first(sys.argv[1:])
    debug = "--debug" in args
    try:
        app(args=args)
    except AfluenteError as error:
        console = JsonConsole() if "--json" in args else Console()
        console.error(error.render(), stack_of(error) if debug else None)
        sys.exit(exit_code(error))


def stack_of(error: BaseException) -> str:
    """The traceback `--debug` shows, ending with the error's type: its message follows
    once, as the `error:` line."""
    lines = traceback.format_exception(error)
    stack = lines[: len(lines) - len(traceback.format_exception_only(error))]
    kind = type(error)
    return "".join(stack) + f"{kind.__module__}.{kind.__qualname__}"
