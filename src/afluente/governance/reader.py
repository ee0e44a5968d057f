"""The governed reader: every read of table data (`query`, `show`, `profile`, `publish`,
`docs build` samples, the unit-test runner, ...) asks it what the caller may see.

`GovernedReader.decide` is the one place where a read decision is taken (an audit log
hooks in there); `rewrite` applies those decisions to a SQL statement, `table_sql` gives
the SELECT that reads one table. With no `governance:` block in `afluente.yml`, or for an
ADMIN, every decision is "everything": nothing is rewritten and reads run as before.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from afluente.config import Project
from afluente.config.governance import GovernanceConfig, MaskKind, RoleSpec
from afluente.errors import AuditError
from afluente.governance.audit import append_audit
from afluente.governance.grants import AccessDenied, Grant, Privilege, allows, denied
from afluente.governance.policies import TablePolicy, combined_filter
from afluente.governance.principals import Directory, Principal
from afluente.model import TableRef

#: Suffixes of the tables kept beside a model's (quarantine, CDC storage, a stream's late
#: rows): governed as it.
_BESIDE = re.compile(r"__(quarantine|cdc_storage|late)$")
#: afluente's own tables whose columns hold table values (quality failing samples).
_STATE_PII = {TableRef("afluente", "quality_results"): {"sample"}}

log = logging.getLogger("afluente.governance")


@dataclass(frozen=True)
class ReadDecision:
    """What one principal may see of one table."""

    principal: str
    table: TableRef
    policy: TablePolicy


@dataclass
class GovernedReader:
    """What `principal` may read in a project; None: governance is not declared."""

    principal: Principal | None
    directory: Directory = field(default_factory=lambda: Directory((), {}, {}))
    roles: Mapping[str, RoleSpec] = field(default_factory=dict)
    pii: Mapping[TableRef, set[str]] = field(default_factory=dict)
    key_source: tuple[str, str | None] = ("AFLUENTE_MASK_KEY", None)
    _key: bytes | None = None
    project: Project | None = None

    @classmethod
    def open(cls, project: Project) -> GovernedReader:
        """The reader for whoever runs this process (the OS user or `AFLUENTE_TOKEN`)."""
        config = project.config.governance
        if config is None:
            return cls(None)
        from afluente.governance.access import load_directory

        directory, identity = load_directory(project, config)
        principal = directory.principal(identity.name, [identity.token_role]
                                        if identity.token_role else [])
        pii = {} if principal.admin else _pii_columns(project)  # an ADMIN loads no models
        return cls(principal, directory, config.roles, pii, _key_source(project, config),
                   project=project)

    @property
    def unrestricted(self) -> bool:
        """Whether every read is whole (no governance, or an ADMIN reads)."""
        return self.principal is None or self.principal.admin

    @property
    def who(self) -> str:
        return self.principal.name if self.principal else "anyone (no governance declared)"

    def decide(self, ref: TableRef, columns: Sequence[str],
               privilege: Privilege = "SELECT") -> ReadDecision:
        """THE read decision: what the caller sees of `ref` (raises `AccessDenied`)."""
        principal = self.principal
        if principal is None:
            return ReadDecision(self.who, ref, TablePolicy(tuple(columns)))
        if principal.admin:
            self.audit("read", str(ref), {"privilege": privilege, "as": "ADMIN"})
            return ReadDecision(self.who, ref, TablePolicy(tuple(columns)))
        base = TableRef(ref.layer, _BESIDE.sub("", ref.name))
        grants = self.directory.grants
        holding = sorted(r for r in principal.roles if allows(grants, [r], privilege, ref))
        if not holding:
            self.audit("access_denied", str(ref), {"privilege": privilege})
            raise denied(principal.name, privilege, str(ref), self.directory.admins)
        masks: dict[str, MaskKind] = {}
        hidden: set[str] = set()
        pii = self.pii.get(base, set()) | _STATE_PII.get(ref, set())
        for column in columns:
            shown = self._column(holding, base, column, column.lower() in pii)
            if shown == "hidden":
                hidden.add(column)
            elif shown != "raw":
                masks[column] = shown
        predicates = [self._role(r).row_filters.get(str(base).lower()) for r in holding]
        policy = TablePolicy(tuple(columns), masks, frozenset(hidden),
                             combined_filter(predicates))
        self.audit("read", str(ref), {"privilege": privilege, "roles": holding,
                                      "masked": sorted(masks), "hidden": sorted(hidden),
                                      "filtered": policy.row_filter is not None})
        return ReadDecision(principal.name, ref, policy)

    def audit(self, action: str, object: str, detail: dict[str, object]) -> None:
        """One entry in the audit log when governance is declared; a log that cannot be
        written is reported and the read goes on (as for a run's writes)."""
        if self.project is None or self.principal is None:
            return
        try:
            append_audit(self.project, action, object, dict(detail), who=self.principal.name)
        except (AuditError, OSError) as exc:
            log.error("audit log not written for %s %s: %s", action, object, exc)

    def _column(self, roles: Sequence[str], base: TableRef, column: str, pii: bool
                ) -> MaskKind | Literal["raw", "hidden"]:
        """`raw`, a mask kind, or `hidden`: the least restrictive view any role gives."""
        grants = self.directory.grants
        masked: list[MaskKind] = []
        for role in roles:
            mask = self._role(role).masks.get(f"{base}.{column}".lower())
            if mask is not None:
                masked.append(mask)
            elif not pii or allows(grants, [role], "SELECT", base, column, named=True):
                return "raw"
        return masked[0] if masked else "hidden"

    def _role(self, name: str) -> RoleSpec:
        return self.roles.get(name) or RoleSpec()

    def table_sql(self, ref: TableRef, columns: Sequence[str], source: str | None = None
                  ) -> str | None:
        """The SELECT that reads `ref` (from `source`, default `ref` itself) as the caller
        may see it; None when they see it whole (read it as before)."""
        policy = self.decide(ref, columns).policy
        if policy.unrestricted:
            return None
        return policy.select_sql(source or f'"{ref.layer}"."{ref.name}"', self._mask_key(policy))

    def rewrite(self, sql: str, columns_of: Callable[[TableRef], Sequence[str] | None]) -> str:
        """`sql` with every table it reads replaced by what the caller may see of it; a
        named column they may not read is refused with the grant it needs."""
        if self.unrestricted:
            return sql
        from afluente.governance.rewrite import (  # sqlglot: only for a governed reader
            column_names,
            parse_statement,
            refuse_indirect_reads,
            rewrite_reads,
            tables_named,
        )

        tree = parse_statement(sql)
        refuse_indirect_reads(tree)
        mentioned = column_names(tree)
        selects: dict[tuple[str, str], str | None] = {}
        for layer, name in sorted(tables_named(tree)):
            ref = TableRef(layer, name)
            columns = columns_of(ref)
            if columns is None:  # not a table of the project: the engine says so
                continue
            decision = self.decide(ref, columns)
            self._refuse_hidden(decision, mentioned)
            policy = decision.policy
            selects[(layer, name)] = None if policy.unrestricted else policy.select_sql(
                f'"{layer}"."{name}"', self._mask_key(policy))
        rewritten = rewrite_reads(tree, lambda layer, name: selects.get((layer, name)))
        return rewritten.sql(dialect="duckdb")

    def _refuse_hidden(self, decision: ReadDecision, mentioned: set[str]) -> None:
        for column in sorted(decision.policy.hidden):
            if column.lower() in mentioned:
                raise denied(decision.principal, "SELECT", f"{decision.table}.{column}",
                             self.directory.admins, pii=True)

    def readable(self, folders: Sequence[str]) -> list[str]:
        """The folders a query may read files under: none for a governed reader (files
        hold every value unmasked)."""
        return list(folders) if self.unrestricted else []

    def _mask_key(self, policy: TablePolicy) -> bytes | None:
        if "hmac" not in policy.masks.values():
            return None
        if self._key is None:
            self._key = read_mask_key(*self.key_source)
        return self._key


def read_mask_key(env: str, file: str | None) -> bytes:
    """The HMAC key: the environment variable `env`, else the key file."""
    value = os.environ.get(env)
    if value:
        return value.encode()
    if file is not None and Path(file).is_file():
        return Path(file).read_bytes().strip()
    where = f"${env}" + (f" or the key file {file}" if file else "")
    raise AccessDenied(f"the hmac mask needs a key, and {where} holds none",
                       hint=f"set {env} (or `governance.hmac_key_file`) to a long random "
                            "secret, the same wherever the pseudonyms must match")


def write_mask_key(project: Project) -> bytes:
    """The HMAC key a model's write-time `hmac` mask uses: the same as the readers'."""
    config = project.config.governance or GovernanceConfig()
    return read_mask_key(*_key_source(project, config))


def _key_source(project: Project, config: GovernanceConfig) -> tuple[str, str | None]:
    file = config.hmac_key_file
    return config.hmac_key_env, str(project.root / file) if file else None


def _pii_columns(project: Project) -> dict[TableRef, set[str]]:
    """Each model's columns tagged `pii` in its config."""
    from afluente.model import load_graph

    graph = load_graph(project)
    return {ref: {c.lower() for c, doc in graph[ref].config.columns.items() if "pii" in doc.tags}
            for ref in graph.order}


def require_admin(reader: GovernedReader, action: str) -> None:
    """Refuse `action` (a grant, a token) to a caller who is not an ADMIN."""
    if not reader.unrestricted:
        assert reader.principal is not None
        reader.audit("access_denied", "project", {"action": action})
        raise AccessDenied(f"{reader.principal.name} may not {action}: it takes ADMIN",
                           hint=f"ask an ADMIN ({', '.join(reader.directory.admins)})")


__all__ = ["AccessDenied", "GovernedReader", "Grant", "ReadDecision", "require_admin"]
