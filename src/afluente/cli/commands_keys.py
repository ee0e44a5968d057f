"""`afluente keys init|rotate|prune|status`: the keys of encrypted columns (docs/governance.md).
They take ADMIN."""

from __future__ import annotations

from typing import Any

import typer

from afluente.cli.app import app
from afluente.cli.context import state_of

keys_app = typer.Typer(help="The keyring of encrypted columns: create, rotate, prune, inspect.",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _project(ctx: typer.Context, action: str) -> Any:
    from afluente.governance.reader import GovernedReader, require_admin

    project = state_of(ctx).project()
    require_admin(GovernedReader.open(project), action)
    return project


@keys_app.command("init")
def keys_init(ctx: typer.Context) -> None:
    """Create the keyring under the master key `governance.encryption.key` declares."""
    from afluente.governance.key_admin import init_keys

    status = init_keys(_project(ctx, "create the keyring"))
    state_of(ctx).console.emit(status, lambda c: c.line(
        f"keyring created at {status['path']} under master key {status['kek_id']}"))


@keys_app.command("rotate")
def keys_rotate(
    ctx: typer.Context,
    new_env: str = typer.Option(None, "--new-env",
                                help="The variable holding the new passphrase or key."),
    reencrypt: bool = typer.Option(False, "--reencrypt",
                                   help="Then give each table and each subject a new "
                                        "key and rewrite the tables."),
) -> None:
    """Re-wrap every data key under a new master key (one transaction); with --reencrypt,
    rewrite the tables under new data keys too."""
    from afluente.governance.key_admin import rotate_keys

    done = rotate_keys(_project(ctx, "rotate the master key"), new_env, reencrypt)

    def render(c: Any) -> None:
        c.line(f"{done['data_keys']} data keys re-wrapped: master key {done['from']} -> "
               f"{done['to']}; {done['next']}")
        if done["reencrypted"]:
            c.line(f"re-encrypted under new data keys: {', '.join(done['reencrypted'])}")
        if done["subject_keys_rotated"]:
            c.line(f"{done['subject_keys_rotated']} subject keys replaced by a new generation")

    state_of(ctx).console.emit(done, render)


@keys_app.command("prune")
def keys_prune(ctx: typer.Context) -> None:
    """Destroy the retired subject keys (from `rotate --reencrypt`) that no data file on
    disk is sealed under any more (after the tables' older versions are vacuumed)."""
    from afluente.governance.key_admin import prune_retired_keys

    done = prune_retired_keys(_project(ctx, "prune the keyring"))
    state_of(ctx).console.emit(done, lambda c: c.line(
        f"{done['retired_dropped']} retired subject keys destroyed; "
        f"{done['retired_kept']} kept (files on disk are sealed under them)"))


@keys_app.command("status")
def keys_status(ctx: typer.Context) -> None:
    """The master key's id and source, the number of keys, the encrypted columns."""
    from afluente.governance.key_admin import key_status

    status = key_status(_project(ctx, "inspect the keyring"))

    def render(c: Any) -> None:
        c.line(f"keyring {status['path']}: master key {status['kek_id']} "
               f"({status['source']}); {status['data_keys']} data keys, "
               f"{status['subject_keys']} subject keys")
        for table, columns in status["encrypted_columns"].items():
            c.line(f"  {table}: {', '.join(columns)}")

    state_of(ctx).console.emit(status, render)
