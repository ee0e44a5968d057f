"""Grants: a privilege (SELECT, MODIFY, ADMIN) that a role holds on a securable (the project,
a layer, a table or a column), and the error a read without one gets.

A privilege implies the ones below it (ADMIN ⊇ MODIFY ⊇ SELECT). A grant on the project
covers every layer, a grant on a layer its tables, a grant on a table its columns, except
the columns tagged `pii`: those need a grant that names the column (or ADMIN).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from afluente.errors import AfluenteError
from afluente.model import TableRef

Privilege = Literal["SELECT", "MODIFY", "ADMIN"]
PRIVILEGES: tuple[Privilege, ...] = ("SELECT", "MODIFY", "ADMIN")
_RANK = {name: rank for rank, name in enumerate(PRIVILEGES)}


class GovernanceError(AfluenteError):
    """A governance declaration or command is wrong (unknown role, bad securable, ...)."""


class AccessDenied(GovernanceError):
    """A principal asked for something no grant of theirs allows."""


@dataclass(frozen=True)
class Grant:
    role: str
    privilege: Privilege
    securable: str  # `project`, `layer`, `layer.table` or `layer.table.column` (lower case)

    def covers(self, ref: TableRef, column: str | None = None, *, named: bool = False) -> bool:
        """Whether this grant reaches table `ref` (its `column`, when given); `named`: only
        a grant naming that column (or an ADMIN grant) counts."""
        target = f"{ref}.{column}".lower() if column else str(ref).lower()
        if named and column and self.privilege != "ADMIN":
            return self.securable == target
        return self.securable == "project" or target == self.securable or \
            target.startswith(self.securable + ".")

    def implies(self, privilege: Privilege) -> bool:
        return _RANK[self.privilege] >= _RANK[privilege]


def parse_privilege(text: str) -> Privilege:
    upper = text.upper()
    for privilege in PRIVILEGES:
        if privilege == upper:
            return privilege
    raise GovernanceError(f"unknown privilege {text!r}",
                          hint=f"use one of {', '.join(PRIVILEGES)}")


def allows(grants: Iterable[Grant], roles: Iterable[str], privilege: Privilege, ref: TableRef,
           column: str | None = None, *, named: bool = False) -> bool:
    """Whether one of `roles` holds `privilege` on `ref` (`column`)."""
    held = set(roles)
    return any(g.role in held and g.implies(privilege) and g.covers(ref, column, named=named)
               for g in grants)


def denied(principal: str, privilege: Privilege, what: str, admins: Sequence[str],
           pii: bool = False) -> AccessDenied:
    """The error for a read without its grant: what is missing, and who can give it."""
    note = " (a column tagged pii needs a grant that names it)" if pii else ""
    who = ", ".join(admins) or "the project's ADMIN"
    return AccessDenied(
        f"{principal} has no {privilege} grant on {what}{note}",
        hint=f"ask an ADMIN ({who}) to run `afluente grant {privilege.lower()} {what} "
             "--to ROLE` for a role you hold",
    )
