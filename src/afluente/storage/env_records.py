"""Data environments on disk: where each table of an environment lives.

Everything is kept beside the tables, under `<warehouse>/_environments/`:

- `<name>/env.json`: an environment's record (its base, its plan, its expiry, its state);
- `<name>/tables/<layer>/<table>`: the Delta tables it builds itself;
- `_pointers/<target>/NNNNNN.json`: the numbered pointer sets of a target (`prod`): which
  tables it reads from another location. The newest file is the current set; a promote or
  a rollback writes the next one, created exclusively (one writer wins, atomically).

A table no pointer names lives at `<warehouse>/<layer>/<table>`, as it always did.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from afluente.errors import DataEnvironmentError
from afluente.model import TableRef

ROOT = "_environments"
POINTERS = "_pointers"
PROD = "prod"
#: the variable that selects the data environment a process reads and writes (set by
#: `--env` on `plan`, `run`, `diff`); unset: prod
DATA_ENV_VARIABLE = "AFLUENTE_DATA_ENV"
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
EnvState = Literal["open", "promoted"]


@dataclass(frozen=True)
class Pinned:
    """A table an environment reads, not writes: its location and version (None: the
    latest, for a pointer set)."""

    uri: str
    version: int | None = None


@dataclass
class EnvRecord:
    """One data environment: what it changed, what it read of its base, and when it
    expires."""

    name: str
    base: str
    created_at: str
    expires_at: str | None
    state: EnvState = "open"
    #: the tables built into the environment's own location (changed and rebuilt)
    own: list[str] = field(default_factory=list)
    #: every other table: the base's location and version when planned
    base_tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the base's pointer set when planned (0: none)
    base_pointers: int = 0
    #: the plan's classification of each changed model, as shown by `plan --env`
    changes: list[dict[str, Any]] = field(default_factory=list)
    #: the model definitions the environment was planned from (see `definitions`)
    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def expired(self, now: datetime | None = None) -> bool:
        if self.expires_at is None:
            return False
        return datetime.fromisoformat(self.expires_at) <= (now or datetime.now(UTC))


@dataclass(frozen=True)
class PointerSet:
    """The tables a target reads from elsewhere, as of one promote or rollback."""

    number: int
    tables: dict[str, str]  # table → its location
    previous: int  # the set this one replaced (0: none, the default layout)
    reason: str
    at: str


def check_name(name: str) -> None:
    """An environment name: lower-case letters, digits, `_`, `-`; not `prod`."""
    if not NAME.match(name) or name == PROD:
        raise DataEnvironmentError(
            f"invalid environment name `{name}`",
            hint="use lower-case letters, digits, `_` or `-` (starting with a letter, at "
                 "most 40 characters); `prod` is the base every environment starts from",
        )


class EnvStore:
    """The environments and pointer sets of one local warehouse."""

    def __init__(self, warehouse_root: str) -> None:
        self.warehouse_root = warehouse_root.rstrip("/")
        self.root = Path(self.warehouse_root.removeprefix("file://")) / ROOT

    # -- environments -------------------------------------------------------------------

    def folder(self, name: str) -> Path:
        return self.root / name

    def table_uri(self, name: str, ref: TableRef) -> str:
        """Where environment `name` builds `ref`."""
        return f"{self.warehouse_root}/{ROOT}/{name}/tables/{ref.layer}/{ref.name}"

    def exists(self, name: str) -> bool:
        return (self.folder(name) / "env.json").is_file()

    def load(self, name: str) -> EnvRecord:
        path = self.folder(name) / "env.json"
        if not path.is_file():
            known = ", ".join(r.name for r in self.records()) or "(none)"
            raise DataEnvironmentError(
                f"no environment `{name}`", hint=f"environments: {known}; create one with "
                f"`afluente plan --env {name}`")
        return EnvRecord(**json.loads(path.read_text(encoding="utf-8")))

    def save(self, record: EnvRecord) -> None:
        path = self.folder(record.name) / "env.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, json.dumps(vars(record), sort_keys=True))  # no deep copy

    def records(self) -> list[EnvRecord]:
        if not self.root.is_dir():
            return []
        return [self.load(p.parent.name) for p in sorted(self.root.glob("*/env.json"))]

    def drop(self, name: str) -> list[str]:
        """Remove an environment's record and the tables no pointer set of prod reads;
        the tables kept (promoted, or needed for a rollback)."""
        self.load(name)
        pointed = {uri for s in self.pointer_sets(PROD) for uri in s.tables.values()}
        kept = []
        tables = self.folder(name) / "tables"
        for table in sorted(tables.glob("*/*")) if tables.is_dir() else []:
            uri = f"{self.warehouse_root}/{ROOT}/{name}/tables/{table.parent.name}/{table.name}"
            if uri in pointed:
                kept.append(f"{table.parent.name}.{table.name}")
            else:
                shutil.rmtree(table)
        (self.folder(name) / "env.json").unlink()
        if not kept:
            shutil.rmtree(self.folder(name), ignore_errors=True)
        return kept

    # -- pointer sets ---------------------------------------------------------------------

    def _pointer_dir(self, target: str) -> Path:
        return self.root / POINTERS / target

    def pointer_sets(self, target: str) -> list[PointerSet]:
        """Oldest first."""
        folder = self._pointer_dir(target)
        if not folder.is_dir():
            return []
        return [PointerSet(**json.loads(p.read_text(encoding="utf-8")))
                for p in sorted(folder.glob("[0-9]*.json"))]

    def current(self, target: str) -> PointerSet | None:
        folder = self._pointer_dir(target)
        if not folder.is_dir():
            return None
        files = sorted(folder.glob("[0-9]*.json"))
        return PointerSet(**json.loads(files[-1].read_text(encoding="utf-8"))) if files else None

    def write_pointers(self, target: str, tables: dict[str, str], previous: int,
                       reason: str, expected: int) -> PointerSet:
        """Set `target`'s next pointer set; `expected` is the current set's number the
        caller decided from: another promote in between makes this one fail."""
        folder = self._pointer_dir(target)
        folder.mkdir(parents=True, exist_ok=True)
        number = expected + 1
        created = PointerSet(number, dict(sorted(tables.items())), previous, reason,
                             datetime.now(UTC).isoformat(timespec="seconds"))
        path = folder / f"{number:06d}.json"
        staged = folder / f".{number:06d}.{os.getpid()}.tmp"
        staged.write_text(json.dumps(asdict(created), indent=1), encoding="utf-8")
        try:
            os.link(staged, path)  # fails when the number is taken: exclusive, atomic
        except FileExistsError:
            raise DataEnvironmentError(
                f"`{target}` changed while this was decided (pointer set {number} exists)",
                hint="run the command again",
            ) from None
        finally:
            staged.unlink()
        return created

    # -- locations ------------------------------------------------------------------------

    def locations(self, environment: str | None) -> tuple[dict[str, Pinned], frozenset[str]]:
        """Where the environment reads each table it does not hold at the default layout,
        and which of them it may write (its own)."""
        if environment in (None, PROD):
            found = self.current(PROD)
            tables = found.tables if found else {}
            return {t: Pinned(uri) for t, uri in tables.items()}, frozenset(tables)
        record = self.load(environment)
        where = {t: Pinned(p["uri"], p.get("version")) for t, p in record.base_tables.items()}
        for table in record.own:
            where[table] = Pinned(self.table_uri(environment, TableRef.parse(table)))
        return where, frozenset(record.own)


def _write_atomic(path: Path, text: str) -> None:
    staged = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    staged.write_text(text, encoding="utf-8")
    staged.replace(path)
