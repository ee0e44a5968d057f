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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from afluente.config import Project
from afluente.config.governance import KEYED_MASKS, GovernanceConfig, MaskKind, RoleSpec
from afluente.errors import AfluenteError, AuditError
from afluente.governance.audit import append_audit
from afluente.governance.grants import AccessDenied, Grant, Privilege, allows, denied
from afluente.governance.policies import TablePolicy, combined_filter
from afluente.governance.principals import Directory, Principal
from afluente.model import TableRef

if TYPE_CHECKING:
    from afluente.governance.identity import Identity
    from afluente.model import Graph
    from afluente.storage import Warehouse

#: Suffixes of the tables kept beside a model's (quarantine, CDC storage, a stream's late
#: rows): governed as it.
_BESIDE = re.compile(r"__(quarantine|cdc_storage|late)$")
#: The masks from the one that shows least to the one that shows most: a copy of columns
#: masked differently by one role shows as the strictest of them.
MASK_STRICTNESS: tuple[MaskKind, ...] = ("null", "redact", "hmac", "hash", "year",
                                          "partial")
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
    #: table → its personal columns → the tagged columns whose values they hold (a tagged
    #: column holds its own; a copy downstream, or the column upstream it is computed from,
    #: those it is linked to by column lineage)
    pii: Mapping[TableRef, Mapping[str, set[str]]] = field(default_factory=dict)
    key_source: tuple[str, str | None] = ("AFLUENTE_MASK_KEY", None)
    _key: bytes | None = None
    project: Project | None = None

    @classmethod
    def open(cls, project: Project, *, columns: bool = True) -> GovernedReader:
        """The reader for whoever runs this process (the OS user or `AFLUENTE_TOKEN`);
        `columns=False` for decisions on whole tables only (MODIFY): no personal columns
        are looked up."""
        config = project.config.governance
        if config is None:
            return cls(None)
        from afluente.governance.access import load_directory

        directory, identity = load_directory(project, config)
        # a decision on whole tables loads no models
        return cls._reading_as(project, config, directory, identity,
                               personal_columns if columns else _no_personal_columns)

    @classmethod
    def for_identity(cls, project: Project, identity: Identity,
                     pii: Callable[[Project], PiiColumns] | None = None) -> GovernedReader:
        """The reader for `identity`, known to the caller (a server's request token);
        `pii` finds the project's personal columns (a server keeps them between requests)."""
        config = project.config.governance
        if config is None:
            return cls(None)
        from afluente.governance.access import project_directory

        return cls._reading_as(project, config, project_directory(project, config), identity,
                               pii or personal_columns)

    @classmethod
    def _reading_as(cls, project: Project, config: GovernanceConfig, directory: Directory,
                    identity: Identity, pii_of: Callable[[Project], PiiColumns]
                    ) -> GovernedReader:
        principal = directory.principal(identity.name, [identity.token_role]
                                        if identity.token_role else [])
        pii = {} if principal.admin else pii_of(project)  # an ADMIN loads no models
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
        pii = {**self.pii.get(base, {}), **{c: set() for c in _STATE_PII.get(ref, ())}}
        for column in columns:
            shown = self._column(holding, base, column, pii.get(column.lower()))
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

    def _column(self, roles: Sequence[str], base: TableRef, column: str,
                origins: set[str] | None) -> MaskKind | Literal["raw", "hidden"]:
        """`raw`, a mask kind, or `hidden`: the least restrictive view any role gives.
        `origins`: None for a column holding no personal data, else the tagged columns whose
        values it holds; a role's mask on the column itself wins, then a grant naming it,
        then the strictest of the role's masks on those tagged columns."""
        grants = self.directory.grants
        masked: list[MaskKind] = []
        for role in roles:
            masks = self._role(role).masks
            mask = masks.get(f"{base}.{column}".lower())
            if mask is not None:
                masked.append(mask)
            elif origins is None or allows(grants, [role], "SELECT", base, column, named=True):
                return "raw"
            else:
                inherited = [masks[o] for o in origins if o in masks]
                if inherited:
                    masked.append(min(inherited, key=MASK_STRICTNESS.index))
        return min(masked, key=MASK_STRICTNESS.index) if masked else "hidden"

    def _role(self, name: str) -> RoleSpec:
        return self.roles.get(name) or RoleSpec()

    def table_sql(self, ref: TableRef, columns: Sequence[str], source: str | None = None
                  ) -> str | None:
        """The SELECT that reads `ref` (from `source`, default `ref` itself) as the caller
        may see it; None when they see it whole (read it as before)."""
        return self.governed_select(ref, columns, source)[1]

    def governed_select(self, ref: TableRef, columns: Sequence[str], source: str | None = None
                        ) -> tuple[TablePolicy, str | None]:
        """The decision's policy for `ref` and `table_sql`'s SELECT (None: whole)."""
        policy = self.decide(ref, columns).policy
        if policy.unrestricted:
            return policy, None
        return policy, policy.select_sql(source or f'"{ref.layer}"."{ref.name}"',
                                         self._mask_key(policy))

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
        if not KEYED_MASKS & set(policy.masks.values()):
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


PiiColumns = Mapping[TableRef, Mapping[str, set[str]]]


def _no_personal_columns(project: Project) -> dict[TableRef, dict[str, set[str]]]:
    return {}


def personal_columns(project: Project) -> dict[TableRef, dict[str, set[str]]]:
    """Each table's columns holding personal data: tagged `pii` in a model's config, or
    linked to a tagged column by column lineage (a copy downstream — a view's too — or the
    column upstream it is computed from), with the tagged columns they come from; kept
    between commands while the models, tags and tables stay the same (`pii_cache.py`)."""
    from afluente.governance.pii_cache import cached_pii_columns
    from afluente.model import load_graph
    from afluente.storage import Warehouse

    graph = load_graph(project)
    warehouse = Warehouse(project.warehouse_uri)
    return cached_pii_columns(project, graph, warehouse,
                              lambda: _lineage_pii(graph, warehouse))


def _lineage_pii(graph: Graph, warehouse: Warehouse) -> dict[TableRef, dict[str, set[str]]]:
    """`_pii_columns` computed: column lineage of the models that can hold personal data."""
    from afluente.governance.holdings import pii_lineage
    from afluente.governance.pii_columns import declared_pii
    from afluente.lineage.propagate import origins

    def columns_of(ref: TableRef) -> Sequence[str] | None:
        try:
            schema = warehouse.schema(ref)
        except AfluenteError:  # damaged: its declared lineage only
            return None
        return list(schema.names) if schema is not None else None

    tagged = {c.lower() for c in declared_pii(graph)}
    found: dict[TableRef, dict[str, set[str]]] = {}
    for key, sources in origins(pii_lineage(graph, columns_of), tagged).items():
        table, _, column = key.lower().rpartition(".")
        if table.count(".") == 1 and not table.startswith("source:"):
            found.setdefault(TableRef.parse(table), {})[column] = {s.lower() for s in sources}
    for key in tagged:  # a tagged column lineage does not know (a Python model's)
        table, _, column = key.rpartition(".")
        found.setdefault(TableRef.parse(table), {}).setdefault(column, {key})
    return found


def require_modify(project: Project, tables: Iterable[TableRef]) -> None:
    """THE write check: under governance, whoever runs this process needs MODIFY on each
    of `tables` (ADMIN implies it); raises `AccessDenied` naming the first table refused and
    who can grant it, before anything is written. Every command and API that writes table
    data calls it (tests/governance/test_write_paths.py): `run` (so `retry`, `backfill`,
    `stream`, `repair`, `demo`, the scheduler), `retain`, `publish`, `forget`, Beam's
    `WriteToAfluente`."""
    if project.config.governance is None:
        return
    reader = GovernedReader.open(project, columns=False)
    for ref in sorted(set(tables), key=str):
        reader.decide(ref, [], "MODIFY")


def require_admin(reader: GovernedReader, action: str) -> None:
    """Refuse `action` (a grant, a token) to a caller who is not an ADMIN."""
    if not reader.unrestricted:
        assert reader.principal is not None
        reader.audit("access_denied", "project", {"action": action})
        raise AccessDenied(f"{reader.principal.name} may not {action}: it takes ADMIN",
                           hint=f"ask an ADMIN ({', '.join(reader.directory.admins)})")


__all__ = ["AccessDenied", "GovernedReader", "Grant", "ReadDecision", "require_admin",
           "require_modify"]
