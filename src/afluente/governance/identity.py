"""Who is calling: the OS user, or the service account whose token is in `AFLUENTE_TOKEN`.

A token reads `afl_<id>_<secret>`. The state store keeps the id, the service account, its
role and the SHA-256 of the secret (the secret is 32 random bytes, so a plain hash is
enough); the token itself is shown once, when it is created, and is never logged or echoed
in an error.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from afluente.governance.grants import AccessDenied
from afluente.state.access_state import AccessStore

TOKEN_ENV = "AFLUENTE_TOKEN"
_PREFIX = "afl_"


@dataclass(frozen=True)
class Identity:
    """The caller's principal name and the role a token carries (None for an OS user)."""

    name: str
    token_role: str | None = None


def os_user() -> str:
    return f"user:{getpass.getuser()}"


def file_owner(path: Path) -> str | None:
    """`user:NAME` of the OS user who owns `path` (None where owners have no names)."""
    try:
        import pwd

        return f"user:{pwd.getpwuid(path.stat().st_uid).pw_name}"
    except (ImportError, KeyError, OSError):
        return None


def current_identity(store: AccessStore) -> Identity:
    """The token's service account when `AFLUENTE_TOKEN` is set, else the OS user."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        return Identity(os_user())
    return token_identity(store, token)


def token_identity(store: AccessStore, token: str, held_in: str = TOKEN_ENV) -> Identity:
    """The service account `token` stands for (raises `AccessDenied`); `held_in` names where
    the token came from, for the message."""
    token_id, secret = _split(token, held_in)
    stored = store.token(token_id)
    digest = hashlib.sha256(secret.encode()).hexdigest()
    if stored is None or not hmac.compare_digest(stored.secret_sha256, digest):
        raise AccessDenied(f"the token in {held_in} is not known to this project",
                           hint="ask an ADMIN for a token (`afluente token create`)")
    if stored.revoked_at is not None:
        raise AccessDenied(f"the token {token_id} in {held_in} was revoked",
                           hint="ask an ADMIN for a new token (`afluente token create`)")
    return Identity(stored.name, stored.role)


def _split(token: str, held_in: str) -> tuple[str, str]:
    parts = token.split("_")
    if len(parts) != 3 or f"{parts[0]}_" != _PREFIX or not parts[1] or not parts[2]:
        raise AccessDenied(f"{held_in} does not hold an afluente token (afl_ID_SECRET)",
                           hint="copy the whole token `afluente token create` printed")
    return parts[1], parts[2]


def create_token(store: AccessStore, name: str, role: str, by: str) -> str:
    """A new token for service account `name` holding `role`; returns the token (shown
    once: only its hash is kept)."""
    token_id = secrets.token_hex(6)
    secret = secrets.token_hex(32)
    store.add_token(token_id, name, role, hashlib.sha256(secret.encode()).hexdigest(), by)
    return f"{_PREFIX}{token_id}_{secret}"
