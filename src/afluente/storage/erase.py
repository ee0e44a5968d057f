"""Remove rows from a Delta table so that nothing in the table's folder keeps them.

A Delta DELETE leaves the values behind in three places: the old data files (until VACUUM),
the `_delta_log` statistics of those files (`minValues`/`maxValues` of every add action) and,
with delta-rs, the DELETE predicate in `commitInfo.operationParameters`. So the rows are
removed here without a predicate: each data file holding a matching row is read, written
again without it (its statistics only the row count) and swapped in one commit; then the
removed files are vacuumed with zero retention, a checkpoint is written, older checkpoints
are deleted and older commits lose their file statistics (see `seal_history`).

The price: the table's earlier versions can no longer be read (their files are gone; time
travel starts at the erasure). Local tables only: the log is cleaned file by file.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable
from deltalake.transaction import AddAction, RemoveAction

from afluente.errors import StorageError
from afluente.storage.commits import FINGERPRINT, INPUTS
from afluente.storage.damage import LOG, commit_version
from afluente.storage.retention import CARRIED
from afluente.storage.stats_columns import STATS_COLUMNS, stats_property
from afluente.storage.view_types import plain_schema

#: the rows of one data file to remove (True) and keep (False)
RowMatcher = Callable[[pa.Table], pa.ChunkedArray | pa.Array]


@dataclass
class ErasedTable:
    """What one erasure did to a table."""

    rows_removed: int = 0
    files_rewritten: list[str] = field(default_factory=list)
    files_vacuumed: int = 0
    log_files_removed: int = 0
    version: int | None = None  # the version after the erasure (None: nothing matched)


def matching_rows(uri: str, matcher: RowMatcher) -> pa.Table | None:
    """The table's current rows the matcher selects (None when none do)."""
    found = []
    for root, path in _files(uri):
        data = _read(root, path)
        hits = data.filter(pc.fill_null(matcher(data), False))
        if hits.num_rows:
            found.append(hits)
    return pa.concat_tables(found, promote_options="permissive") if found else None


def erase_rows(uri: str, matcher: RowMatcher, metadata: dict[str, str],
               scrub: Callable[[str], str],
               moved: Mapping[str, tuple[int, int]] | None = None) -> ErasedTable:
    """Rewrite without the matched rows, vacuum, checkpoint and clean the log (see above);
    `scrub` removes the erased values from a text (a line of the log).

    The erasure commit carries what the table's last commit said of how it was built (its
    model, fingerprint, the input versions it read, a source's progress), so the next run
    sees a table still up to date with its definition, not one to rebuild. `moved`: inputs
    this erasure rewrote before this table (`layer.table` → (version before, version
    after)); an input version recorded as the one before becomes the one after, so the
    next run does not read that input's rewrite as new data."""
    table = _open(uri)
    root = _local(uri)
    done = ErasedTable()
    actions: list[AddAction | RemoveAction] = []
    for path, add in _adds(table).items():
        data = _read(root, path)
        remove = pc.fill_null(matcher(data), False)
        count = pc.sum(remove).as_py() or 0
        if count:
            actions.extend(_without(root, path, add, data.filter(pc.invert(remove))))
            done.rows_removed += count
            done.files_rewritten.append(path)
    if not actions:
        return done
    # the vacuum's two commits carry it too: the newest commit is what a run reads
    metadata = {**_carried(table, moved or {}), **metadata}
    table.create_write_transaction(
        actions, mode="append", schema=table.schema(),
        commit_properties=CommitProperties(custom_metadata=metadata))
    done.version, done.files_vacuumed, done.log_files_removed = seal_history(uri, scrub,
                                                                              metadata)
    return done


def _carried(table: DeltaTable, moved: Mapping[str, tuple[int, int]]) -> dict[str, str]:
    """The build metadata of the table's last build commit (not a property change such as
    `keep_out_of_stats`'s), its inputs moved past the erasure."""
    built = next((e for e in table.history(16) if FINGERPRINT in e), {})
    carried = {k: v for k, v in built.items() if k in CARRIED and isinstance(v, str)}
    if INPUTS in carried and moved:
        inputs = json.loads(carried[INPUTS])
        for name, (before, after) in moved.items():
            if inputs.get(name) == before:
                inputs[name] = after
        carried[INPUTS] = json.dumps(inputs, sort_keys=True)
    return carried


def seal_history(uri: str, scrub: Callable[[str], str],
                 metadata: dict[str, str] | None = None) -> tuple[int, int, int]:
    """Vacuum with zero retention, checkpoint, and clean the log before the checkpoint: the
    version checkpointed, the data files removed, the log files removed.

    Older checkpoints (the statistics of every file) are deleted. The older commit files
    stay, because the run history lives in their `commitInfo` (what a source has ingested,
    which inputs a model read), but each is rewritten without the statistics of its files
    and with `scrub` applied to every line (a DELETE predicate that named a value)."""
    table = _open(uri)
    vacuumed = table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False,
                            full=True, commit_properties=CommitProperties(
                                custom_metadata=metadata) if metadata else None)
    table.update_incremental()
    table.create_checkpoint()
    version = table.version()
    removed = 0
    for entry in sorted((_local(uri) / LOG).iterdir()):
        number = commit_version(entry)
        if number is None or number >= version or not entry.is_file():
            continue
        if entry.name.endswith(".json"):
            _rewrite_commit(entry, scrub)
        else:
            entry.unlink()
            removed += 1
    return version, len(vacuumed), removed


def _rewrite_commit(path: Path, scrub: Callable[[str], str]) -> None:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        action = json.loads(line)
        for kind in ("add", "remove"):
            if kind in action:
                action[kind].pop("stats", None)
        lines.append(scrub(json.dumps(action, separators=(",", ":"), ensure_ascii=False)))
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def keep_out_of_stats(uri: str, private: set[str],
                      storage_options: dict[str, str] | None = None) -> bool:
    """Set `delta.dataSkippingStatsColumns` so the files written from now on keep no
    statistics (min/max) of the `private` columns; True when the property changed."""
    table = DeltaTable(uri, storage_options=storage_options)
    wanted = stats_property([f.name for f in table.schema().fields], private)
    if not wanted or table.metadata().configuration.get(STATS_COLUMNS) == wanted[STATS_COLUMNS]:
        return False
    table.alter.set_table_properties(wanted)
    return True


def _without(root: Path, path: str, add: dict[str, object], kept: pa.Table
             ) -> list[AddAction | RemoveAction]:
    partitions: dict[str, str | None] = dict(add.get("partitionValues") or {})  # type: ignore[call-overload]
    now = int(time.time() * 1000)
    removal = RemoveAction(path, True, now, int(str(add["size"])), partitions)
    if not kept.num_rows:
        return [removal]
    source = root / path
    new = source.with_name(f"part-{uuid.uuid4().hex}.erased.parquet")
    pq.write_table(kept.cast(plain_schema(kept.schema)), new)
    size = new.stat().st_size
    stats = json.dumps({"numRecords": kept.num_rows})
    relative = os.path.relpath(new, root)
    return [AddAction(relative, size, partitions, now, True, stats), removal]


def _adds(table: DeltaTable) -> dict[str, dict[str, object]]:
    """The current version's data files: path (relative, unescaped) → size and partitions."""
    actions = pa.table(table.get_add_actions(flatten=True)).to_pylist()
    return {str(a["path"]): {"size": a["size_bytes"], "partitionValues": {
        k.removeprefix("partition."): None if v is None else str(v)
        for k, v in a.items() if k.startswith("partition.")}} for a in actions}


def _files(uri: str) -> list[tuple[Path, str]]:
    root = _local(uri)
    return [(root, path) for path in _adds(_open(uri))]


def _read(root: Path, path: str) -> pa.Table:
    return pq.read_table(root / path)


def _open(uri: str) -> DeltaTable:
    try:
        return DeltaTable(uri)
    except Exception as exc:
        raise StorageError(f"cannot open the Delta table at {uri}: {exc}") from None


def _local(uri: str) -> Path:
    if "://" in uri and not uri.startswith("file://"):
        raise StorageError(
            f"erasure needs a local table; {uri} is remote",
            hint="run `afluente forget` where the warehouse is a local folder")
    return Path(uri.removeprefix("file://"))


def local_tables(root: str) -> list[str]:
    """`layer.table` of every Delta table in a local warehouse (quarantine tables too)."""
    base = _local(root)
    if not base.is_dir():
        return []
    return sorted(f"{log.parent.parent.name}.{log.parent.name}"
                  for log in base.glob(f"*/*/{LOG}") if not log.parent.parent.name.startswith("_"))
