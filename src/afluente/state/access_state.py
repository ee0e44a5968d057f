"""Reading and writing the governance tables: grants to roles, role members and service
tokens (migration 0005). A token is kept as its id and the SHA-256 of its secret half: the
store never holds a usable token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from afluente.state import schema
from afluente.state.coltypes import utc_now
from afluente.state.store import StateStore


@dataclass(frozen=True)
class StoredGrant:
    role: str
    privilege: str
    securable: str
    granted_by: str


@dataclass(frozen=True)
class StoredToken:
    token_id: str
    name: str
    role: str
    secret_sha256: str
    created_at: datetime
    revoked_at: datetime | None


class AccessStore(StateStore):
    """The state store plus grants, role members and tokens."""

    @classmethod
    def open(cls, url: str) -> AccessStore:
        store = super().open(url)
        assert isinstance(store, AccessStore)
        return store

    def __enter__(self) -> AccessStore:
        return self

    def grants(self) -> list[StoredGrant]:
        with self._read("read grants") as conn:
            rows = conn.execute(select(schema.grants)).mappings().all()
        return [StoredGrant(r["role"], r["privilege"], r["securable"], r["granted_by"])
                for r in rows]

    def grant(self, role: str, privilege: str, securable: str, by: str) -> bool:
        """Add a grant; False when the role already held it."""
        table = schema.grants
        key = ((table.c.role == role) & (table.c.privilege == privilege)
               & (table.c.securable == securable))
        with self._write(f"grant {privilege} on {securable} to {role}") as conn:
            if conn.execute(select(table.c.role).where(key)).first() is not None:
                return False
            conn.execute(table.insert().values(role=role, privilege=privilege,
                                               securable=securable, granted_by=by,
                                               granted_at=utc_now()))
        return True

    def revoke(self, role: str, privilege: str, securable: str) -> bool:
        """Remove a grant; False when the role did not hold it here."""
        table = schema.grants
        key = ((table.c.role == role) & (table.c.privilege == privilege)
               & (table.c.securable == securable))
        with self._write(f"revoke {privilege} on {securable} from {role}") as conn:
            return bool(conn.execute(table.delete().where(key)).rowcount)

    def members(self) -> list[tuple[str, str]]:
        """(role, principal) pairs."""
        with self._read("read role members") as conn:
            rows = conn.execute(select(schema.role_members)).mappings().all()
        return [(r["role"], r["principal"]) for r in rows]

    def add_member(self, role: str, principal: str, by: str) -> None:
        table = schema.role_members
        key = (table.c.role == role) & (table.c.principal == principal)
        with self._write(f"add {principal} to role {role}") as conn:
            conn.execute(table.delete().where(key))
            conn.execute(table.insert().values(role=role, principal=principal, added_by=by,
                                               added_at=utc_now()))

    def remove_member(self, role: str, principal: str) -> bool:
        table = schema.role_members
        key = (table.c.role == role) & (table.c.principal == principal)
        with self._write(f"remove {principal} from role {role}") as conn:
            return bool(conn.execute(table.delete().where(key)).rowcount)

    def add_token(self, token_id: str, name: str, role: str, secret_sha256: str,
                  by: str) -> None:
        with self._write(f"create token {token_id}") as conn:
            conn.execute(schema.tokens.insert().values(
                token_id=token_id, name=name, role=role, secret_sha256=secret_sha256,
                created_by=by, created_at=utc_now(), revoked_at=None))

    def token(self, token_id: str) -> StoredToken | None:
        table = schema.tokens
        with self._read("read a token") as conn:
            row = conn.execute(select(table).where(table.c.token_id == token_id)
                               ).mappings().first()
        if row is None:
            return None
        return StoredToken(row["token_id"], row["name"], row["role"], row["secret_sha256"],
                           row["created_at"], row["revoked_at"])
