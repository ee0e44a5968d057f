"""Data environments: `plan --env`, `run --env`, `diff`, `promote`, `rollback`, `env
list|drop|clean` and `ci` (docs/environments.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from afluente.cli.app import app
from afluente.cli.console import Console
from afluente.cli.context import state_of

env_app = typer.Typer(help="Create, list, drop and clean data environments.", no_args_is_help=True)
app.add_typer(env_app, name="env")


def plan_env(ctx: typer.Context, name: str, base: str, expires_after: str | None,
             new: bool = False) -> None:
    from afluente.runtime.environments import plan_environment

    cli = state_of(ctx)
    planned = plan_environment(cli.project(), name, base, expires_after, new=new)
    payload = {"environment": name, "base": base, "created": planned.created,
               "changes": [c.as_dict() for c in planned.changes],
               "rebuilt": planned.rebuilt, "builds": planned.record.own,
               "expires_at": planned.record.expires_at}

    def render(console: Console) -> None:
        rows = [[c.table, c.category, c.reason, _columns(c.columns.as_dict())]
                for c in planned.changes]
        rows += [[t, "rebuilt", f"downstream of breaking `{up}`", ""]
                 for t, up in planned.rebuilt.items()]
        console.table(["table", "change", "why", "columns"], rows)
        console.line(f"environment `{name}` (base `{base}`): {len(planned.record.own)} "
                     f"table(s) to build, {len(planned.record.base_tables)} read from "
                     f"`{base}`; next: `afluente run --env {name}`")

    cli.console.emit(payload, render)


def _columns(diff: dict[str, list[str]]) -> str:
    signs = {"added": "+", "removed": "-", "modified": "~"}
    return " ".join(f"{signs[k]}{c}" for k, cols in diff.items() for c in cols)


def env_selector(ctx: typer.Context, name: str) -> str:
    """What `run --env NAME` selects: the tables its plan builds."""
    from afluente.runtime.environments import own_tables

    return " ".join(own_tables(state_of(ctx).project(), name))


@app.command()
def diff(
    ctx: typer.Context,
    table: str = typer.Argument(..., help="The table to compare, e.g. silver.orders."),
    data_env: str = typer.Option(..., "--env", help="The data environment to compare."),
) -> None:
    """Compare a table of a data environment with its base: rows, keys, columns, schema."""
    from afluente.model import TableRef
    from afluente.runtime.env_diff import diff_table

    cli = state_of(ctx)
    found = diff_table(cli.project(), TableRef.parse(table), data_env)
    cli.console.emit(found.as_dict(), lambda c: c.line(diff_text(found.as_dict())))


def diff_text(found: dict[str, Any]) -> str:
    lines = [f"{found['table']}: {found['rows_base']} row(s) in `{found['base']}`, "
             f"{found['rows_env']} in `{found['environment']}`"]
    for label, key in (("added", "added_columns"), ("removed", "removed_columns"),
                       ("retyped", "retyped_columns")):
        if found[key]:
            lines.append(f"  columns {label}: {', '.join(found[key])}")
    if found["key"] is None:
        lines.append("  no unique_key: rows not matched")
    else:
        lines.append(f"  by key ({', '.join(found['key'])}): {found['matched']} matched, "
                     f"{found['only_base']} only in base, {found['only_env']} only in env")
        lines += [f"  {c}: {n} matched row(s) differ" for c, n in found["changed"].items()]
    return "\n".join(lines)


@app.command()
def promote(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The environment to promote."),
    to: str = typer.Option("prod", "--to", help="The environment that will read its tables."),
) -> None:
    """Point prod at an environment's tables, atomically (nothing is rebuilt)."""
    from afluente.runtime.env_promote import promote as promote_env

    cli = state_of(ctx)
    done = promote_env(cli.project(), name, to)
    payload = {"environment": name, "target": to, "pointer_set": done.pointers.number,
               "tables": done.tables}
    cli.console.emit(payload, lambda c: c.line(
        f"`{to}` reads {len(done.tables)} table(s) from `{name}` (pointer set "
        f"{done.pointers.number}); undo with `afluente rollback {to}`"))


@app.command()
def rollback(
    ctx: typer.Context,
    target: str = typer.Argument("prod", help="The environment to roll back."),
) -> None:
    """Point prod back at the tables it read before its last promote."""
    from afluente.runtime.env_promote import rollback as rollback_env

    cli = state_of(ctx)
    done = rollback_env(cli.project(), target)
    payload = {"target": target, "pointer_set": done.number, "tables": done.tables}
    cli.console.emit(payload, lambda c: c.line(
        f"`{target}` rolled back (pointer set {done.number}: {len(done.tables)} table(s) "
        "read from environments)"))


@env_app.command("create")
def env_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The new environment's name."),
    base: str = typer.Option("prod", "--base", help="The environment it is based on."),
    expires_after: str = typer.Option(None, "--expires-after",
                                      help="It expires after this long (7d, 12h)."),
) -> None:
    """Create and plan a data environment; a name that exists is refused."""
    plan_env(ctx, name, base, expires_after, new=True)


@env_app.command("list")
def env_list(ctx: typer.Context) -> None:
    """The data environments: base, state, tables built, expiry."""
    from afluente.runtime.environments import env_store

    cli = state_of(ctx)
    records = env_store(cli.project()).records()
    payload = [{"name": r.name, "base": r.base, "state": r.state, "tables": r.own,
                "created_at": r.created_at, "expires_at": r.expires_at} for r in records]
    cli.console.emit(payload, lambda c: c.table(
        ["name", "base", "state", "tables", "expires"],
        [[r.name, r.base, r.state, str(len(r.own)), r.expires_at or "never"]
         for r in records]))


@env_app.command("drop")
def env_drop(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Remove an environment and its files (tables prod reads are kept)."""
    from afluente.runtime.env_promote import drop

    cli = state_of(ctx)
    kept = drop(cli.project(), name)
    cli.console.emit({"dropped": name, "kept": kept}, lambda c: c.line(
        f"dropped `{name}`" + (f"; kept {', '.join(kept)} (prod reads them)" if kept else "")))


@env_app.command("clean")
def env_clean(ctx: typer.Context) -> None:
    """Drop every environment past its expiry."""
    from afluente.runtime.env_promote import clean_expired

    cli = state_of(ctx)
    dropped = clean_expired(cli.project())
    cli.console.emit({"dropped": dropped}, lambda c: c.line(
        f"dropped {len(dropped)} expired environment(s): {', '.join(dropped) or '-'}"))


@app.command()
def ci(
    ctx: typer.Context,
    data_env: str = typer.Option("ci", "--env", help="The data environment to build in."),
    summary: Path = typer.Option(None, "--summary", help="Write the markdown summary here "
                                 "(default: stdout)."),
) -> None:
    """For a pull request: validate, unit tests, plan and build the changed models in a data
    environment, diff them against prod, and write a markdown summary."""
    from afluente.cli.ci_check import run_ci

    cli = state_of(ctx)
    report = run_ci(cli.project(), data_env)
    if summary is not None:
        summary.write_text(report.markdown, encoding="utf-8")
    cli.console.emit({"passed": report.passed, "summary": report.markdown},
                     lambda c: c.line(report.markdown))
    if not report.passed:
        sys.exit(1)
