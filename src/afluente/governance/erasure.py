"""`afluente forget`: erase one data subject from everything afluente keeps (LGPD Art. 18 VI).

1. Find the subject: the rows holding their identifying value in a column of personal data,
   then the rows linked to those by the other identifying values and by business keys
   (`governance.subject`), in every table holding personal data (`governance.holdings`):
   bronze, silver, gold, quarantine tables, `_rescued_data`, SCD2 history.
2. Remove the rows: files rewritten without them, vacuumed with zero retention, the log
   checkpointed and cleaned of statistics (`storage.erase`).
3. Scrub the rest: the state store's texts (events, quality samples, metric profiles),
   generated reports and OpenLineage files under the project.
4. Write an erasure certificate (`.afluente/erasures/<id>.json`) and an audit entry. Neither
   holds the subject's values: the certificate names the kind of key, tables, counts, files.

The landing zone is the source system's: it is not rewritten; the certificate lists the
landing files that still hold the subject so the request can be passed on (a full refresh
of bronze from those files would bring the subject back).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from afluente.config import Project
from afluente.config.loader import STATE_DIR
from afluente.errors import ErasureError
from afluente.governance.audit import append_audit, principal
from afluente.governance.holdings import Holding, ProjectView
from afluente.governance.opened_columns import ColumnOpener
from afluente.governance.pii_kinds import kind_of_name
from afluente.governance.reader import require_modify
from afluente.governance.subject import Profile, Subject, absorb, row_matcher
from afluente.governance.text_scrub import (
    Eraser,
    files_holding,
    generated_files,
    scrub_files,
    source_roots,
)
from afluente.model import TableRef
from afluente.state import StateStore
from afluente.state.locks import acquire_locks, release_locks
from afluente.storage.commits import ERASURE
from afluente.storage.erase import erase_rows, keep_out_of_stats, matching_rows

MAX_ROUNDS = 8


@dataclass
class TableErasure:
    table: str
    columns: list[str]
    rows_removed: int
    files_rewritten: int
    files_vacuumed: int
    log_files_removed: int
    version: int | None


@dataclass
class Certificate:
    """What one erasure touched; never the subject's values."""

    request_id: str
    subject_key: str
    principal: str
    started_at: str
    finished_at: str = ""
    tables: list[TableErasure] = field(default_factory=list)
    state_store: dict[str, int] = field(default_factory=dict)
    files_scrubbed: list[str] = field(default_factory=list)
    source_files_holding_subject: list[str] = field(default_factory=list)
    time_travel: str = ""
    #: the subject's encryption key destroyed (`governance.encryption.subject`): its id,
    #: and what that made unreadable
    crypto_shredded: dict[str, str] = field(default_factory=dict)

    @property
    def rows_removed(self) -> int:
        return sum(t.rows_removed for t in self.tables)

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "rows_removed": self.rows_removed}


@dataclass(frozen=True)
class SubjectRows:
    """The subject found: what identifies them and their rows per table."""

    profile: Profile
    rows: dict[str, pa.Table]
    holdings: dict[str, Holding]


def find_subject(view: ProjectView, subject: Subject, opener: ColumnOpener | None = None
                 ) -> SubjectRows:
    """Every row of the subject in the tables holding personal data (to a fixed point);
    `opener` opens encrypted columns, both to compare them and in the rows found."""
    holdings = {h.table: h for h in view.holdings()}
    groups = view.key_groups(list(holdings))
    profile = Profile.of(subject)
    rows: dict[str, pa.Table] = {}
    for _ in range(MAX_ROUNDS):
        before = profile.size()
        for table, holding in holdings.items():
            found = matching_rows(holding.uri, row_matcher(profile, table, holding.pii,
                                                           opener))
            if found is not None:
                if opener is not None:
                    found = opener.table(table, found)
                rows[table] = found
                absorb(profile, table, holding.pii, groups, found)
        if profile.size() == before:
            break
    return SubjectRows(profile, rows, holdings)


def forget(project: Project, subject_text: str) -> Certificate:
    """Erase the subject everywhere (see the module's description). The tables holding
    personal data are locked as a run locks them, so no run writes them meanwhile."""
    subject = Subject.parse(subject_text)
    view = ProjectView.load(project)
    # erasing rewrites tables: MODIFY on each (the CLI also takes ADMIN, which implies it)
    require_modify(project, {TableRef.parse(h.table.split("__", 1)[0]) for h in view.holdings()})
    request_id = uuid.uuid4().hex[:16]
    store = StateStore.open(project.state_url)
    locks = sorted({f"table:{h.table.split('__', 1)[0]}" for h in view.holdings()})
    try:
        acquire_locks(store, locks, f"erasure:{request_id}",
                      wait=project.config.run.lock_timeout)
        try:
            return _forget(project, view, store, subject, request_id)
        finally:
            release_locks(store, f"erasure:{request_id}")
    finally:
        store.close()


def _forget(project: Project, view: ProjectView, store: StateStore, subject: Subject,
            request_id: str) -> Certificate:
    opener = ColumnOpener.of(project)  # the search opens encrypted columns (ADMIN's)
    try:
        found = find_subject(view, subject, opener)
        return _erase(project, view, store, subject, request_id, found, opener)
    finally:
        opener.close()


def _erase(project: Project, view: ProjectView, store: StateStore, subject: Subject,
           request_id: str, found: SubjectRows, opener: ColumnOpener) -> Certificate:
    shredder = subject_shredder(project, subject, found.profile)
    if not found.rows and shredder is None:
        raise ErasureError(
            f"no row holds the subject `{subject.column}=…` in the "
            f"{len(found.holdings)} tables holding personal data; nothing was changed",
            hint="check the value, or tag the column that holds it `pii` "
                 "(`afluente classify` suggests tags)")
    certificate = Certificate(request_id, subject.column, principal(), _now())
    eraser = Eraser(found.profile.needles())
    # upstream first: a table's erasure commit records its inputs at their erased versions
    # (`erase_rows`), so the next run neither rebuilds it nor reads the rewrite as new data
    order = {str(ref): i for i, ref in enumerate(view.graph.order)}
    moved: dict[str, tuple[int, int]] = {}
    for table in sorted(found.rows, key=lambda t: (order.get(t.split("__", 1)[0], len(order)),
                                                   t)):
        before = view.warehouse.version(TableRef.parse(table))
        erased = _erase_table(found, table, certificate.request_id, eraser, moved, opener)
        if before is not None and erased.version is not None:
            moved[table] = (before, erased.version)
        certificate.tables.append(erased)
    if shredder is not None:  # after the rows: their search opens the subject's values
        certificate.crypto_shredded = shredder()
    certificate.state_store = store.scrub(eraser)
    _scrub_files(project, view, eraser, certificate)
    certificate.time_travel = (
        "versions written before the erasure can no longer be read in the tables listed "
        "(their data files were vacuumed): time travel starts at each table's `version`")
    certificate.finished_at = _now()
    _write_certificate(project, certificate)
    append_audit(project, "erasure", f"erasure:{certificate.request_id}", {
        "subject_key": subject.column, "tables": [t.table for t in certificate.tables],
        "rows_removed": certificate.rows_removed,
        "crypto_shredded": certificate.crypto_shredded.get("subject_key_id")})
    return certificate


def subject_shredder(project: Project, subject: Subject, profile: Profile | None = None
                     ) -> Callable[[], dict[str, str]] | None:
    """When `governance.encryption.subject` gives per-subject keys and the keyring has one
    for the subject — by the value given, or by a value of that column their rows hold
    (`forget cpf=…` with keys by e-mail) — the destruction of those keys
    (crypto-shredding); else None."""
    governance = project.config.governance
    spec = governance.encryption if governance is not None else None
    if spec is None or spec.subject is None:
        return None
    from afluente.governance.column_cipher import keyring_path
    from afluente.governance.keyring import KeyRing

    ring = KeyRing.open(keyring_path(project, spec), spec.key)
    held = sorted(v for v in _keyed_values(spec.subject, subject, profile)
                  if ring.keys_by_lookup([v]))
    if not held:
        ring.close()
        return None

    def shred() -> dict[str, str]:
        try:
            destroyed = [ring.shred(value) for value in held]
        finally:
            ring.close()
        return {"subject_key_id": ",".join(sorted(d for d in destroyed if d)),
                "keyring": str(ring.path),
                "unreadable": "every value encrypted under this key, in every table, "
                              "every Delta version and every copy of the files"}

    return shred


def _keyed_values(column: str, subject: Subject, profile: Profile | None) -> set[str]:
    """The subject's values of `column` (the one per-subject keys are made from)."""
    column = column.lower()
    found = {subject.value} if subject.column.lower() == column else set()
    if profile is not None:
        kind = kind_of_name(column)
        found |= profile.identifiers.get(kind, set()) if kind is not None else set()
        found |= profile.by_column.get(column, set())
        for target, values in profile.keys.items():
            if target.rpartition(".")[2].lower() == column:
                found |= values
    return found


def _erase_table(found: SubjectRows, table: str, request_id: str, eraser: Eraser,
                 moved: dict[str, tuple[int, int]], opener: ColumnOpener) -> TableErasure:
    holding = found.holdings[table]
    keep_out_of_stats(holding.uri, set(holding.pii))  # from the next write on, too
    done = erase_rows(
        holding.uri, row_matcher(found.profile, table, holding.pii, opener),
        {"afluente.operation": "erasure", ERASURE: request_id}, eraser, moved)
    return TableErasure(table, sorted(holding.pii), done.rows_removed,
                        len(done.files_rewritten), done.files_vacuumed,
                        done.log_files_removed, done.version)


def _scrub_files(project: Project, view: ProjectView, eraser: Eraser,
                 certificate: Certificate) -> None:
    landing = source_roots(project)
    warehouse = Path(view.warehouse.root) if view.warehouse.is_local else None
    skip = [*landing, *([warehouse] if warehouse else [])]
    certificate.files_scrubbed = scrub_files(list(generated_files(project, skip)), eraser)
    held = {node.source_name for ref, node in view.graph.nodes.items()
            if node.source_name and str(ref) in {t.table for t in certificate.tables}}
    certificate.source_files_holding_subject = files_holding(
        source_roots(project, held), eraser)


def _write_certificate(project: Project, certificate: Certificate) -> Path:
    folder = project.root / STATE_DIR / "erasures"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{certificate.request_id}.json"
    path.write_text(json.dumps(certificate.as_json(), indent=2, sort_keys=True) + "\n",
                    encoding="utf-8")
    return path


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
