"""The `governance:` block of `afluente.yml`: roles, their members, grants, column masks and
row filters (docs/governance.md). Pure declarations; `afluente.governance` enforces them."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Privilege = Literal["SELECT", "MODIFY", "ADMIN"]
MaskKind = Literal["redact", "partial", "hmac", "hash", "null", "year"]
MASK_KINDS: tuple[str, ...] = ("redact", "partial", "hmac", "hash", "null", "year")
#: The masks computed under the project's pseudonymisation key.
KEYED_MASKS: frozenset[str] = frozenset({"hmac", "hash"})

#: `user:ana`, `group:analysts`, `service:etl` (a bare name is a user).
_PRINCIPAL = re.compile(r"^(user|group|service):[A-Za-z0-9_.@\-]+$")
#: `project`, a layer, `layer.table` or `layer.table.column`.
_SECURABLE = re.compile(r"^(project|[A-Za-z_]\w*(\.[A-Za-z_]\w*){0,2})$")
_TABLE = re.compile(r"^[A-Za-z_]\w*\.[A-Za-z_]\w*$")
_COLUMN = re.compile(r"^[A-Za-z_]\w*\.[A-Za-z_]\w*\.[A-Za-z_]\w*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def principal_name(value: str) -> str:
    """`ana` as `user:ana`; anything else must be `kind:name`."""
    text = value if ":" in value else f"user:{value}"
    if not _PRINCIPAL.match(text):
        raise ValueError(f"{value!r} is not a principal: write user:NAME, group:NAME or "
                         "service:NAME")
    return text


class GrantSpec(_Strict):
    """`{select: gold}`: a privilege on the project, a layer, a table or a column."""

    privilege: Privilege
    on: str

    @field_validator("privilege", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("on")
    @classmethod
    def _securable(cls, value: str) -> str:
        if not _SECURABLE.match(value):
            raise ValueError(f"{value!r} is not a securable: write project, a layer, "
                             "layer.table or layer.table.column")
        return value.lower()


class RoleSpec(_Strict):
    """One role: who holds it, what it may do, and what it sees masked or filtered."""

    description: str | None = None
    members: tuple[str, ...] = ()
    grants: tuple[GrantSpec, ...] = ()
    # `layer.table.column: redact|partial|hmac|hash|null|year`
    masks: dict[str, MaskKind] = Field(default_factory=dict)
    # `layer.table: SQL predicate` (the rows this role sees)
    row_filters: dict[str, str] = Field(default_factory=dict)

    @field_validator("members")
    @classmethod
    def _members(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(principal_name(member) for member in value)

    @field_validator("grants", mode="before")
    @classmethod
    def _grant_shorthand(cls, value: Any) -> Any:
        """`- select: gold` for `- {privilege: SELECT, on: gold}`."""
        if not isinstance(value, list | tuple):
            return value
        return [_one_grant(item) for item in value]

    @field_validator("masks")
    @classmethod
    def _mask_columns(cls, value: dict[str, str]) -> dict[str, str]:
        for column in value:
            if not _COLUMN.match(column):
                raise ValueError(f"mask key {column!r} must be layer.table.column")
        return {column.lower(): kind for column, kind in value.items()}

    @field_validator("row_filters")
    @classmethod
    def _filter_tables(cls, value: dict[str, str]) -> dict[str, str]:
        for table in value:
            if not _TABLE.match(table):
                raise ValueError(f"row filter key {table!r} must be layer.table")
        return {table.lower(): predicate for table, predicate in value.items()}


def _one_grant(item: Any) -> Any:
    if isinstance(item, dict) and len(item) == 1 and "privilege" not in item:
        ((privilege, on),) = item.items()
        return {"privilege": privilege, "on": on}
    return item


KeySource = Literal["passphrase", "env", "kms"]


class KeySpec(_Strict):
    """Where the key-encryption key (the master key) comes from (docs/governance.md)."""

    source: KeySource
    # passphrase: the scrypt-derived key; the passphrase is read from this variable
    passphrase_env: str = "AFLUENTE_KEY_PASSPHRASE"
    # env: 32 random bytes, base64 or hex, in this variable
    env: str = "AFLUENTE_MASTER_KEY"
    # kms: `module:Class` implementing `afluente.governance.kek.KeyEncryptionKey`
    plugin: str | None = None
    options: dict[str, str] = Field(default_factory=dict)

    @field_validator("plugin")
    @classmethod
    def _plugin(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[\w.]+:\w+$", value):
            raise ValueError(f"{value!r} is not module:Class")
        return value


class EncryptionSpec(_Strict):
    """`governance.encryption`: which stored columns hold AES-GCM ciphertext, and the key."""

    key: KeySpec
    # encrypt the columns holding personal data (tagged `pii`, or linked to one by lineage)
    pii: bool = True
    # and these (`layer.table.column`)
    columns: tuple[str, ...] = ()
    # per-subject keys: rows are encrypted under the key of the value of this column
    # (destroying it crypto-shreds the subject everywhere)
    subject: str | None = None
    # the keyring (wrapped data keys, subject keys), relative to the project
    keyring: str = ".afluente/keyring.db"

    @field_validator("columns")
    @classmethod
    def _columns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for column in value:
            if not _COLUMN.match(column):
                raise ValueError(f"encrypted column {column!r} must be layer.table.column")
        return tuple(column.lower() for column in value)


class GovernanceConfig(_Strict):
    """`governance:` — declaring it turns access control on (without it every OS user who
    can open the project is its ADMIN, as before)."""

    # who administers the project; empty: the OS user who owns afluente.yml
    admins: tuple[str, ...] = ()
    groups: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    roles: dict[str, RoleSpec] = Field(default_factory=dict)
    # where the HMAC pseudonymisation key comes from: an environment variable, else a file
    hmac_key_env: str = "AFLUENTE_MASK_KEY"
    hmac_key_file: str | None = None
    # column-level encryption at rest (None: columns are stored as written)
    encryption: EncryptionSpec | None = None

    @field_validator("admins")
    @classmethod
    def _admins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(principal_name(admin) for admin in value)

    @field_validator("groups")
    @classmethod
    def _groups(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        return {name: tuple(principal_name(m) for m in members)
                for name, members in value.items()}
