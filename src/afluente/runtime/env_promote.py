"""Promote an environment (prod points at its tables, atomically, nothing rebuilt), roll
prod back to its previous pointer set, list, drop and expire environments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from afluente.config import Project
from afluente.errors import DataEnvironmentError, StaleEnvironmentError
from afluente.model import TableRef
from afluente.runtime.environments import env_store, save_prod_definitions
from afluente.storage import Warehouse
from afluente.storage.env_records import PROD, EnvRecord, PointerSet


@dataclass(frozen=True)
class Promoted:
    environment: str
    target: str
    pointers: PointerSet
    tables: dict[str, int]  # table → the version prod reads now


def promote(project: Project, name: str, target: str = PROD) -> Promoted:
    """Point `target` at `name`'s tables. Refused, before anything is written, when the
    base moved since the plan or a table was not built."""
    if target != PROD:
        raise DataEnvironmentError(f"promoting to `{target}`: only `prod` can be promoted to",
                                   hint=f"afluente promote {name} --to prod")
    store = env_store(project)
    record = store.load(name)
    if record.state != "open":
        raise DataEnvironmentError(f"environment `{name}` was promoted already",
                                   hint=f"`afluente rollback {target}` undoes a promote")
    _check_base_unmoved(project, record)
    from afluente.governance.reader import require_modify

    require_modify(project, [TableRef.parse(t) for t in record.own])
    mine = Warehouse(project.warehouse_uri, environment=name)
    versions = {}
    for table in record.own:
        last = mine.last_commit(TableRef.parse(table))
        if last is None:
            raise DataEnvironmentError(
                f"`{table}` was not built in environment `{name}`", table=table,
                hint=f"build it first: `afluente run --env {name}`")
        versions[table] = last.version
    current = store.current(target)
    tables = dict(current.tables) if current else {}
    tables.update({t: mine.uri(TableRef.parse(t)) for t in record.own})
    number = current.number if current else 0
    pointers = store.write_pointers(target, tables, number, f"promote {name}", number)
    record.state = "promoted"
    store.save(record)
    save_prod_definitions(store, {t: record.definitions[t] for t in record.own
                                  if t in record.definitions})
    _record(project, "environment_promoted", name, {
        "environment": name, "target": target, "pointer_set": pointers.number,
        "tables": versions})
    return Promoted(name, target, pointers, versions)


def _check_base_unmoved(project: Project, record: EnvRecord) -> None:
    """The versions the environment read of its base are still the base's."""
    store = env_store(project)
    current = store.current(record.base)
    number = 0 if current is None else current.number
    if number != record.base_pointers:
        raise StaleEnvironmentError(
            f"`{record.base}` was promoted to or rolled back since `{record.name}` was planned "
            f"(pointer set {record.base_pointers} → {number})",
            hint=f"re-plan: `afluente plan --env {record.name}`, then run it again")
    base = Warehouse(project.warehouse_uri,
                     environment=record.base)
    for table, pinned in sorted(record.base_tables.items()):
        last = base.last_commit(TableRef.parse(table))
        now = None if last is None else last.version
        if now != pinned.get("version"):
            raise StaleEnvironmentError(
                f"`{table}` moved in `{record.base}` since `{record.name}` was planned "
                f"(v{pinned.get('version')} → v{now})", table=table,
                hint=f"re-plan: `afluente plan --env {record.name}`, then run it again")


def rollback(project: Project, target: str = PROD) -> PointerSet:
    """`target` back to the pointer set before its current one (one step per call)."""
    store = env_store(project)
    current = store.current(target)
    if current is None:
        raise DataEnvironmentError(f"`{target}` has never been promoted to: nothing to roll "
                                   "back", hint="`afluente env list` shows the environments")
    sets = {s.number: s for s in store.pointer_sets(target)}
    before = sets.get(current.previous)
    tables = dict(before.tables) if before else {}
    from afluente.governance.reader import require_modify

    require_modify(project, [TableRef.parse(t) for t in {*tables, *current.tables}])
    restored = store.write_pointers(target, tables, before.previous if before else 0,
                                    f"rollback of set {current.number}", current.number)
    _record(project, "environment_rolled_back", target, {
        "target": target, "pointer_set": restored.number, "undone": current.number,
        "restored": current.previous})
    return restored


def drop(project: Project, name: str) -> list[str]:
    """Remove an environment; the tables prod reads (or may roll back to) are kept."""
    kept = env_store(project).drop(name)
    _record(project, "environment_dropped", name, {"environment": name, "kept": kept})
    return kept


def clean_expired(project: Project, now: datetime | None = None) -> list[str]:
    """Drop every open environment past its `expires_at`."""
    store = env_store(project)
    expired = [r.name for r in store.records() if r.state == "open" and r.expired(now)]
    for name in expired:
        drop(project, name)
    return expired


def _record(project: Project, kind: str, subject: str, payload: dict[str, object]) -> None:
    """In the event log and the audit log."""
    from afluente.governance.audit import append_audit
    from afluente.state import Event, StateStore

    with StateStore.open(project.state_url) as state:
        state.emit(Event(type=kind, payload={**payload,
                                            "at": datetime.now(UTC).isoformat()}))
    append_audit(project, kind, subject, payload)
