"""Data environments: plan one against its base, build it, record prod's definitions.

An environment holds only what changed: the changed models and the stored tables
downstream of a breaking change are built into its own location; every other table is read
from the base at the version it had when the environment was planned (docs/environments.md).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from afluente.config import Project
from afluente.errors import DataEnvironmentError
from afluente.model import Graph, TableRef, load_graph
from afluente.runtime.env_changes import (
    ModelChange,
    classify,
    definition,
    rebuilt_downstream,
)
from afluente.runtime.results import ModelResult
from afluente.storage import Warehouse
from afluente.storage.env_records import (
    DATA_ENV_VARIABLE,
    PROD,
    EnvRecord,
    EnvStore,
    check_name,
)

DEFINITIONS = "models.json"  # prod's definitions, beside its pointer sets


@dataclass(frozen=True)
class EnvPlan:
    record: EnvRecord
    changes: list[ModelChange]
    rebuilt: dict[str, str]  # table → the breaking change upstream of it
    created: bool


def env_store(project: Project) -> EnvStore:
    """The environments of a local warehouse (object storage: not yet supported)."""
    if "://" in project.warehouse_uri and not project.warehouse_uri.startswith("file://"):
        raise DataEnvironmentError(
            f"data environments need a local warehouse ({project.warehouse_uri} is object "
            "storage)", hint="see docs/environments.md, `Limits`")
    return EnvStore(project.warehouse_uri)


@contextmanager
def in_environment(name: str | None) -> Iterator[None]:
    """Every warehouse opened inside resolves tables for environment `name`."""
    before = os.environ.get(DATA_ENV_VARIABLE)
    if name is None:
        os.environ.pop(DATA_ENV_VARIABLE, None)
    else:
        os.environ[DATA_ENV_VARIABLE] = name
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(DATA_ENV_VARIABLE, None)
        else:
            os.environ[DATA_ENV_VARIABLE] = before


def parse_duration(text: str) -> timedelta:
    """`7d`, `12h`, `30m`, `2w`."""
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit():
        raise DataEnvironmentError(f"invalid duration `{text}`",
                                   hint="write a number and a unit: 30m, 12h, 7d, 2w")
    return timedelta(**{units[unit]: int(number)})


def base_definitions(store: EnvStore, base: str) -> dict[str, dict[str, Any]]:
    if base == PROD:
        path = store.root / PROD / DEFINITIONS
        return dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else {}
    return store.load(base).definitions


def save_prod_definitions(store: EnvStore, updates: dict[str, dict[str, Any]]) -> None:
    path = store.root / PROD / DEFINITIONS
    path.parent.mkdir(parents=True, exist_ok=True)
    found = base_definitions(store, PROD)
    found.update(updates)
    staged = path.with_name(f".{DEFINITIONS}.{os.getpid()}.tmp")
    staged.write_text(json.dumps(found, sort_keys=True), encoding="utf-8")
    staged.replace(path)


def record_built(project: Project, graph: Graph, models: tuple[ModelResult, ...]) -> None:
    """After a prod run: the definitions of the models it built are prod's (what `plan
    --env` compares the working tree with)."""
    root = project.warehouse_uri
    if (os.environ.get(DATA_ENV_VARIABLE) or PROD) != PROD or (
            "://" in root and not root.startswith("file://")):
        return
    built = {str(m.ref): definition(graph[m.ref], graph.fingerprints[m.ref])
             for m in models if m.status == "success" and m.ref in graph.nodes}
    if built:
        save_prod_definitions(EnvStore(root), built)


def plan_environment(project: Project, name: str, base: str = PROD,
                     expires_after: str | None = None, new: bool = False) -> EnvPlan:
    """Classify each model changed against `base` and record what the environment builds
    and reads; an open environment is re-planned (its base versions read again) unless
    `new` (`afluente env create`) asks for one that does not exist yet."""
    check_name(name)
    store = env_store(project)
    previous = store.load(name) if store.exists(name) else None
    if previous is not None:
        _check_replannable(previous, base, new)
    if base != PROD:
        store.load(base)
    expiry = parse_duration(expires_after) if expires_after else None
    graph = load_graph(project)
    base_wh = Warehouse(project.warehouse_uri, environment=base)
    definitions = {str(r): definition(graph[r], graph.fingerprints[r]) for r in graph.order}
    changes = _changes(graph, base_wh, base_definitions(store, base), definitions)
    rebuilt = rebuilt_downstream(graph, changes)
    own = sorted({c.table for c in changes if graph[TableRef.parse(c.table)].materialized}
                 | set(rebuilt))
    now = datetime.now(UTC)
    record = EnvRecord(
        name=name, base=base,
        created_at=previous.created_at if previous else now.isoformat(timespec="seconds"),
        expires_at=(previous.expires_at if previous and expiry is None
                    else (now + expiry).isoformat(timespec="seconds") if expiry else None),
        own=own, base_tables=_base_tables(graph, base_wh, set(own)),
        base_pointers=_pointer_number(store, base),
        changes=[c.as_dict() for c in changes],
        definitions=definitions,
    )
    store.save(record)
    return EnvPlan(record, changes, rebuilt, previous is None)


def _check_replannable(previous: EnvRecord, base: str, new: bool) -> None:
    name = previous.name
    if new:
        raise DataEnvironmentError(
            f"environment `{name}` exists (base `{previous.base}`, {previous.state})",
            hint=f"re-plan it with `afluente plan --env {name}`, drop it with `afluente env "
                 f"drop {name}`, or choose another name")
    if previous.state != "open":
        raise DataEnvironmentError(
            f"environment `{name}` was promoted to `{previous.base}`: it is read-only now",
            hint=f"drop it (`afluente env drop {name}`) or plan another name")
    if previous.base != base:
        raise DataEnvironmentError(
            f"environment `{name}` is based on `{previous.base}`, not `{base}`",
            hint=f"plan another name for a change based on `{base}`")


def _changes(graph: Graph, base: Warehouse, known: dict[str, dict[str, Any]],
             definitions: dict[str, dict[str, Any]]) -> list[ModelChange]:
    found = []
    for ref in graph.order:
        new = definitions[str(ref)]
        old = known.get(str(ref))
        if old is None:
            last = base.last_commit(ref) if graph[ref].materialized else None
            if last is not None and last.fingerprint == graph.fingerprints[ref]:
                continue
            if last is not None:
                found.append(ModelChange(str(ref), "breaking", "definition changed (the base "
                             "recorded no definition to compare columns with)",
                             classify(str(ref), None, new).columns))
                continue
        elif _same(old, new):
            continue  # unchanged (an upstream's change alone moves a fingerprint)
        found.append(classify(str(ref), old, new))
    return found


def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    if old["fingerprint"] == new["fingerprint"]:
        return True
    ignored = {"fingerprint"} if new["language"] != "source" else set()
    return {k: v for k, v in old.items() if k not in ignored} == {
        k: v for k, v in new.items() if k not in ignored}


def _base_tables(graph: Graph, base: Warehouse, own: set[str]) -> dict[str, dict[str, Any]]:
    """Where and at which version the environment reads every table it does not build (a
    table the base never built is left out): the base's own pin, else its newest commit
    from one listing of the table's log."""
    refs = [r for r in graph.order if str(r) not in own and graph[r].materialized]
    marks = base.commit_marks(refs)
    pinned = {}
    for ref in refs:
        version = base.pinned_version(ref)
        if version is None and marks is not None:
            version = marks[str(ref)]
        elif version is None:
            last = base.last_commit(ref)
            version = None if last is None else last.version
        if version is not None:
            pinned[str(ref)] = {"uri": base.uri(ref), "version": version}
    return pinned


def _pointer_number(store: EnvStore, base: str) -> int:
    current = store.current(base)
    return 0 if current is None else current.number


def own_tables(project: Project, name: str) -> list[str]:
    """What `run --env NAME` builds: the tables its plan names (it must still be open)."""
    record = env_store(project).load(name)
    if record.state != "open":
        raise DataEnvironmentError(f"environment `{name}` was promoted: it is read-only",
                                   hint="plan a new environment: `afluente plan --env NAME`")
    if not record.own:
        raise DataEnvironmentError(f"environment `{name}` has nothing to build: no model "
                                   "changed against its base", hint="change a model, then "
                                   f"`afluente plan --env {name}`")
    return record.own


def run_environment(project: Project, name: str, **options: Any) -> Any:
    """Build the environment's own tables (what its plan says changed or is rebuilt)."""
    from afluente.runtime.runner import run_project

    tables = own_tables(project, name)
    with in_environment(name):
        return run_project(project, " ".join(tables),
                           **{"trigger": {"environment": name}, **options})
