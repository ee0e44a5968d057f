"""Principals (users, groups, service accounts) and the roles they hold.

A principal is written `kind:name`: `user:ana` (an OS user), `group:analysts` (a named set
of users declared in `governance.groups`), `service:etl` (a service account, which presents
a token). Roles are held directly or through a group; ADMINs are the declared `admins`,
the members of a role with ADMIN on the project, or (none declared) the OS user who owns
`afluente.yml`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from afluente.governance.grants import Grant


@dataclass(frozen=True)
class Principal:
    """Who is reading: their name, the roles they hold, and whether they administer."""

    name: str
    roles: frozenset[str] = frozenset()
    admin: bool = False


@dataclass(frozen=True)
class Directory:
    """Everything that says who holds which role: declared and granted in the state store."""

    admins: tuple[str, ...]
    groups: Mapping[str, tuple[str, ...]]  # group name -> user principals
    members: Mapping[str, tuple[str, ...]]  # role -> principals (users, groups, services)
    grants: tuple[Grant, ...] = ()
    roles: tuple[str, ...] = field(default=())  # every role name known

    def groups_of(self, name: str) -> set[str]:
        return {f"group:{group}" for group, users in self.groups.items() if name in users}

    def roles_of(self, name: str, extra: Iterable[str] = ()) -> frozenset[str]:
        """The roles `name` holds directly, through a group, plus `extra` (a token's)."""
        holders = {name} | self.groups_of(name)
        held = {role for role, members in self.members.items() if holders & set(members)}
        return frozenset(held | set(extra))

    def principal(self, name: str, extra_roles: Sequence[str] = ()) -> Principal:
        roles = self.roles_of(name, extra_roles)
        admin_roles = {g.role for g in self.grants
                       if g.privilege == "ADMIN" and g.securable == "project"}
        admin = name in self.admins or bool(roles & admin_roles)
        return Principal(name, roles, admin)
