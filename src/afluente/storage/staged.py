"""Commit Parquet files an engine wrote itself (in parallel) as one Delta version.

The engine writes into a staging folder under the warehouse; the files are moved into the
table folder (a rename on the same file system) and committed by delta-rs in one overwrite
commit. Until that commit they are invisible to readers. This is also the path a Spark
engine will use.

Staged files live in `<warehouse>/_staging/<run id>/`, so what a killed run left behind is
known by its owner: the next run removes the folders of every run that is not alive
(:func:`staging_owners`, :func:`remove_staging`), never those of a live concurrent run.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable, Field, Schema
from deltalake.exceptions import CommitFailedError, DeltaError
from deltalake.transaction import AddAction, RemoveAction, create_table_with_add_actions

from afluente.errors import CommitConflictError, StorageError
from afluente.model import TableRef
from afluente.storage.commits import commit_metadata, commit_transactions

STAGING = "_staging"


@dataclass(frozen=True)
class StagedFiles:
    """Parquet files written for one table, and their total row count."""

    directory: Path
    files: tuple[Path, ...]
    rows: int


def staging_dir(root: str, ref: TableRef, run_id: str) -> Path:
    """A fresh folder under the warehouse for one write of `ref` by run `run_id`."""
    path = Path(root) / STAGING / run_id / f"{ref.layer}.{ref.name}-{uuid.uuid4().hex}"
    try:
        path.mkdir(parents=True)
    except OSError as exc:
        raise StorageError(
            f"cannot write table `{ref}`: cannot create its staging folder {path} "
            f"({exc.strerror or exc})",
            table=str(ref),
            hint=f"make {Path(root) / STAGING} a folder writable by the user running "
            "afluente, then run again; the table keeps its previous version",
        ) from None
    return path


def staging_owners(root: str) -> dict[str, Path]:
    """Each folder of `<warehouse>/_staging` by its name: the run id that owns it (folders
    of an afluente that staged without a run folder have no owner that can still run)."""
    base = Path(root) / STAGING
    if not base.is_dir():
        return {}
    return {entry.name: entry for entry in base.iterdir()}


def remove_staging(folders: list[Path]) -> tuple[int, int]:
    """Delete the staging `folders`; returns the files and bytes they held. Another process
    removing the same folders at once is no error."""
    files = sizes = 0
    for folder in folders:
        found = [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else [folder]
        for path in found:
            try:
                sizes += path.stat().st_size
                files += 1
            except OSError:  # gone already, or a parent is not a folder
                continue
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                folder.unlink(missing_ok=True)
    return files, sizes


def needs_protocol_upgrade(table_uri: str, staged: StagedFiles) -> bool:
    """True when the files hold naive timestamps (Delta `timestamp_ntz`) and the existing
    table lacks that feature: only the Delta writer upgrades a table's protocol."""
    if not DeltaTable.is_deltatable(table_uri):
        return False
    schema = pq.read_schema(staged.files[0])
    if not any(pa.types.is_timestamp(f.type) and f.type.tz is None for f in schema):
        return False
    features = DeltaTable(table_uri).protocol().reader_features or []
    return "timestampNtz" not in features


def nullable_schema(schema: pa.Schema) -> pa.Schema:
    """The Delta schema of staged files: every column nullable. A file's `required` column
    says only that this batch has no NULL (Spark marks `count(*)` or a literal so, DuckDB
    never does): the table keeps one schema whichever engine wrote it, and a later NULL is
    not refused."""
    return pa.schema([field.with_nullable(True) for field in schema], metadata=schema.metadata)


def commit_staged(
    table_uri: str,
    ref: TableRef,
    staged: StagedFiles,
    *,
    run_id: str,
    fingerprint: str,
    inputs: dict[str, object],
    configuration: dict[str, str | None],
    mode: Literal["overwrite", "append"] = "overwrite",
    progress: dict[str, object] | None = None,
) -> None:
    """Move the staged files into the table and commit them in one version: replacing its
    content (`overwrite`) or adding to it (`append`, first adding any new columns)."""
    try:
        arrow_schema = nullable_schema(pq.read_schema(staged.files[0]))
        actions = [_move(file, Path(table_uri)) for file in staged.files]
        metadata = commit_metadata(
            run_id, str(ref), fingerprint, inputs, staged.rows, progress=progress
        )
        props = CommitProperties(
            custom_metadata=metadata,
            app_transactions=commit_transactions(run_id, progress),
        )
        if DeltaTable.is_deltatable(table_uri):
            table = DeltaTable(table_uri)
            schema = Schema.from_arrow(arrow_schema)
            if mode == "append":
                schema = _with_new_columns(table, arrow_schema)
            replace: list[AddAction | RemoveAction] = list(actions)
            table.create_write_transaction(replace, mode=mode, schema=schema,
                                           commit_properties=props)
        else:
            create_table_with_add_actions(
                table_uri, Schema.from_arrow(arrow_schema), actions, mode="error",
                configuration=configuration, commit_properties=props,
            )
    except CommitFailedError as exc:
        raise CommitConflictError(
            f"another writer committed to `{ref}` first: {exc}", table=str(ref), run_id=run_id,
            hint="retry the run; no data was written",
        ) from exc
    except (DeltaError, OSError, ValueError) as exc:
        raise StorageError(f"committing `{ref}` failed: {exc}", table=str(ref),
                           run_id=run_id) from exc
    finally:
        shutil.rmtree(staged.directory, ignore_errors=True)


def _with_new_columns(table: DeltaTable, incoming: pa.Schema) -> Schema:
    """Add the incoming columns the table lacks (a commit of its own, holding no data: a
    crash after it leaves a wider, unchanged table) and return the table's schema."""
    current = pa.schema(table.schema().to_arrow())
    new = [field for field in incoming if field.name not in current.names]
    if new:
        table.alter.add_columns([Field.from_arrow(f) for f in new])
        table.update_incremental()
    return table.schema()


def _move(file: Path, table_dir: Path) -> AddAction:
    table_dir.mkdir(parents=True, exist_ok=True)
    name = f"part-{uuid.uuid4().hex}.parquet"
    target = table_dir / name
    shutil.move(file, target)  # a rename, or a copy when the table is on another device
    stat = target.stat()
    rows = pq.read_metadata(target).num_rows
    return AddAction(name, stat.st_size, {}, int(stat.st_mtime * 1000), True,
                     json.dumps({"numRecords": rows}))
