"""`afluente grant`, `revoke`, `roles`, `token create` and `whoami`: who may do what
(docs/governance.md). Changing grants, members or tokens takes ADMIN."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from afluente.cli.app import app
from afluente.cli.console import Console
from afluente.cli.context import CliState, state_of

if TYPE_CHECKING:
    from afluente.governance.reader import GovernedReader

roles_app = typer.Typer(help="List roles, their members and grants; add or remove members.",
                        invoke_without_command=True)
token_app = typer.Typer(help="Service tokens (AFLUENTE_TOKEN).", no_args_is_help=True)
app.add_typer(roles_app, name="roles")
app.add_typer(token_app, name="token")

SECURABLE_HELP = "project, a layer, layer.table or layer.table.column"


def _admin_reader(cli: CliState, action: str) -> tuple[Any, GovernedReader]:
    from afluente.governance.reader import GovernedReader, require_admin

    project = cli.project()
    reader = GovernedReader.open(project)
    require_admin(reader, action)
    return project, reader


def _securable(text: str) -> str:
    from afluente.config.governance import GrantSpec
    from afluente.governance.grants import GovernanceError

    try:
        return GrantSpec(privilege="SELECT", on=text).on
    except ValueError:
        raise GovernanceError(f"{text!r} is not a securable",
                              hint=f"write {SECURABLE_HELP}") from None


@app.command()
def grant(
    ctx: typer.Context,
    privilege: str = typer.Argument(..., help="select, modify or admin"),
    securable: str = typer.Argument(..., help=SECURABLE_HELP),
    to: str = typer.Option(..., "--to", help="The role that receives it."),
) -> None:
    """Grant a privilege on the project, a layer, a table or a column to a role."""
    from afluente.governance.grants import parse_privilege
    from afluente.state.access_state import AccessStore

    cli = state_of(ctx)
    wanted, on = parse_privilege(privilege), _securable(securable)
    project, reader = _admin_reader(cli, f"grant {wanted} on {on}")
    with AccessStore.open(project.state_url) as store:
        added = store.grant(to, wanted, on, reader.who)
    if added:
        reader.audit("grant", on, {"privilege": wanted, "role": to})
    _said(cli.console, {"role": to, "privilege": wanted, "on": on, "changed": added},
          f"granted {wanted} on {on} to {to}" if added else f"{to} already holds {wanted} on "
          f"{on}", project)


@app.command()
def revoke(
    ctx: typer.Context,
    privilege: str = typer.Argument(..., help="select, modify or admin"),
    securable: str = typer.Argument(..., help=SECURABLE_HELP),
    from_: str = typer.Option(..., "--from", help="The role that loses it."),
) -> None:
    """Revoke a grant made with `afluente grant` (grants declared in afluente.yml are
    removed there)."""
    from afluente.governance.grants import GovernanceError, parse_privilege
    from afluente.state.access_state import AccessStore

    cli = state_of(ctx)
    wanted, on = parse_privilege(privilege), _securable(securable)
    project, reader = _admin_reader(cli, f"revoke {wanted} on {on}")
    with AccessStore.open(project.state_url) as store:
        removed = store.revoke(from_, wanted, on)
    if not removed:
        declared = _declared(project, from_, wanted, on)
        raise GovernanceError(
            f"role {from_} holds no {wanted} grant on {on} in the state store",
            hint="it is declared in afluente.yml: remove it there" if declared else
            "see `afluente roles` for the grants each role holds")
    reader.audit("revoke", on, {"privilege": wanted, "role": from_})
    _said(cli.console, {"role": from_, "privilege": wanted, "on": on, "changed": True},
          f"revoked {wanted} on {on} from {from_}", project)


def _declared(project: Any, role: str, privilege: str, on: str) -> bool:
    config = project.config.governance
    spec = config.roles.get(role) if config else None
    return spec is not None and any(g.privilege == privilege and g.on == on
                                    for g in spec.grants)


def _said(console: Console, payload: dict[str, Any], text: str, project: Any) -> None:
    off = project.config.governance is None
    note = ("note: afluente.yml declares no `governance:` block, so grants take effect once "
            "it does" if off else None)

    def render(c: Console) -> None:
        c.line(text)
        if note:
            c.line(note, style="yellow")

    console.emit(dict(payload, governance_declared=not off), render)


@roles_app.callback()
def roles(ctx: typer.Context) -> None:
    """Every role with its members and grants (declared and granted)."""
    if ctx.invoked_subcommand is not None:
        return
    from afluente.governance.reader import GovernedReader

    cli = state_of(ctx)
    reader = GovernedReader.open(cli.project())
    directory = reader.directory
    payload = [{"role": role, "members": list(directory.members.get(role, ())),
                "grants": [f"{g.privilege} on {g.securable}" for g in directory.grants
                           if g.role == role]}
               for role in directory.roles]

    def render(console: Console) -> None:
        console.table(["role", "members", "grants"],
                      [[p["role"], ", ".join(p["members"]), ", ".join(p["grants"])]
                       for p in payload])
        console.line(f"ADMINs: {', '.join(directory.admins) or 'everyone (no governance)'}")

    cli.console.emit({"roles": payload, "admins": list(directory.admins)}, render)


@roles_app.command("add")
def roles_add(ctx: typer.Context, role: str = typer.Argument(...),
              principal: str = typer.Argument(..., help="user:NAME, group:NAME, service:NAME")
              ) -> None:
    """Make a principal a member of a role."""
    from afluente.config.governance import principal_name
    from afluente.governance.grants import GovernanceError
    from afluente.state.access_state import AccessStore

    cli = state_of(ctx)
    try:
        name = principal_name(principal)
    except ValueError as error:
        raise GovernanceError(str(error)) from None
    project, reader = _admin_reader(cli, f"add members to role {role}")
    with AccessStore.open(project.state_url) as store:
        store.add_member(role, name, reader.who)
    reader.audit("grant", f"role {role}", {"member": name})
    _said(cli.console, {"role": role, "member": name}, f"{name} now holds role {role}",
          project)


@roles_app.command("remove")
def roles_remove(ctx: typer.Context, role: str = typer.Argument(...),
                 principal: str = typer.Argument(...)) -> None:
    """Remove a member added with `afluente roles add`."""
    from afluente.config.governance import principal_name
    from afluente.governance.grants import GovernanceError
    from afluente.state.access_state import AccessStore

    cli = state_of(ctx)
    name = principal_name(principal) if ":" in principal else f"user:{principal}"
    project, reader = _admin_reader(cli, f"remove members from role {role}")
    with AccessStore.open(project.state_url) as store:
        if not store.remove_member(role, name):
            raise GovernanceError(f"{name} is no member of role {role} in the state store",
                                  hint="members declared in afluente.yml are removed there")
    reader.audit("revoke", f"role {role}", {"member": name})
    _said(cli.console, {"role": role, "member": name}, f"{name} left role {role}", project)


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    role: str = typer.Option(..., "--role", help="The role the token holds."),
    name: str = typer.Option(..., "--name", help="The service account (service:NAME)."),
) -> None:
    """Create a service token; it is printed once (only its hash is kept)."""
    from afluente.config.governance import principal_name
    from afluente.governance.identity import TOKEN_ENV, create_token
    from afluente.state.access_state import AccessStore

    cli = state_of(ctx)
    service = principal_name(name if ":" in name else f"service:{name}")
    project, reader = _admin_reader(cli, "create tokens")
    with AccessStore.open(project.state_url) as store:
        token = create_token(store, service, role, reader.who)
    reader.audit("key", f"token {service}", {"role": role})

    def render(console: Console) -> None:
        console.line(token)
        console.line(f"set {TOKEN_ENV} to this token to act as {service} (role {role}); "
                     "it is shown only now", style="dim")

    cli.console.emit({"token": token, "principal": service, "role": role}, render)


@app.command()
def whoami(ctx: typer.Context) -> None:
    """Who afluente takes you for here, your roles, and whether you are an ADMIN."""
    from afluente.governance.reader import GovernedReader

    cli = state_of(ctx)
    reader = GovernedReader.open(cli.project())
    principal = reader.principal
    held = sorted(principal.roles) if principal else []
    payload = {"principal": reader.who, "roles": held, "admin": reader.unrestricted}

    def render(console: Console) -> None:
        console.line(f"{reader.who}  roles: {', '.join(held) or '-'}"
                     f"  admin: {'yes' if reader.unrestricted else 'no'}")

    cli.console.emit(payload, render)
