"""The warehouse: every table a Delta table at `<warehouse>/<layer>/<table>`.

Every write is one atomic Delta commit. Its commit info carries the run id, the model's
fingerprint and the versions of the inputs it read; a Delta app transaction keyed by the run
id makes a retried run unable to write the same table twice.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.dataset as pads
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, SchemaMismatchError
from deltalake.exceptions import TableNotFoundError as DeltaTableNotFound

from afluente.errors import CommitConflictError, StorageError, TableNotFoundError
from afluente.model import TableRef
from afluente.storage.arrow_dataset import delta_dataset
from afluente.storage.commits import COMPLETE, CommitInfo, app_id, commit_metadata
from afluente.storage.schema_history import SchemaChange, schema_changes
from afluente.storage.staged import (
    StagedFiles,
    commit_staged,
    needs_protocol_upgrade,
    staging_dir,
)

TABLE_CONFIGURATION: dict[str, str | None] = {
    "delta.setTransactionRetentionDuration": "interval 30 days"
}


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one write: the version it made (or found) and the rows it added."""

    version: int
    rows: int
    already_written: bool = False


class Warehouse:
    """Reads and writes the project's Delta tables."""

    def __init__(self, root: str, storage_options: dict[str, str] | None = None) -> None:
        self.root = root.rstrip("/")
        self.storage_options = storage_options

    def uri(self, ref: TableRef) -> str:
        return f"{self.root}/{ref.layer}/{ref.name}"

    def exists(self, ref: TableRef) -> bool:
        return DeltaTable.is_deltatable(self.uri(ref), storage_options=self.storage_options)

    def open(
        self, ref: TableRef, version: int | None = None, as_of: datetime | str | None = None
    ) -> DeltaTable:
        """The table at its latest version, a given version, or as of a time."""
        try:
            table = DeltaTable(self.uri(ref), storage_options=self.storage_options)
            if version is not None:
                table.load_as_version(version)
            elif as_of is not None:
                table.load_as_version(as_of)
        except DeltaTableNotFound:
            raise TableNotFoundError(
                f"table `{ref}` has not been built yet (no Delta table at {self.uri(ref)})",
                table=str(ref),
                hint=f"run `afluente run --select +{ref}` to build it",
            ) from None
        except (DeltaError, ValueError, OSError) as exc:
            wanted = f"version {version}" if version is not None else f"as of {as_of}"
            raise StorageError(
                f"cannot load `{ref}` at {wanted}: {exc}",
                table=str(ref),
                hint=f"see the versions with `afluente history {ref}`",
            ) from None
        return table

    def version(self, ref: TableRef) -> int | None:
        """The latest version, or None when the table was never written."""
        return self.open(ref).version() if self.exists(ref) else None

    def dataset(self, ref: TableRef, version: int | None = None) -> pads.Dataset:
        """An Arrow dataset over the table (projection and filter pushdown for engines)."""
        return delta_dataset(self.open(ref, version=version))

    def history(self, ref: TableRef, limit: int | None = None) -> list[CommitInfo]:
        """Versions newest first."""
        return [CommitInfo.from_history(e) for e in self.open(ref).history(limit)]

    def schema_history(self, ref: TableRef) -> list[SchemaChange]:
        """Every version that changed the table's schema, oldest first (the first one is the
        creation)."""
        return schema_changes(self.open(ref), self.history(ref))

    def last_commit(self, ref: TableRef) -> CommitInfo | None:
        """The newest commit, or None when the table was never written (one log read)."""
        if not self.exists(ref):
            return None
        history = self.open(ref).history(1)
        return CommitInfo.from_history(history[0]) if history else None

    def write(
        self,
        ref: TableRef,
        data: pa.RecordBatchReader,
        *,
        run_id: str,
        fingerprint: str,
        inputs: dict[str, object],
    ) -> WriteResult:
        """Replace the table's content in one atomic commit (once per run id)."""
        done = self.written_by(ref, run_id)
        if done is not None:
            data.close()
            return done
        metadata = commit_metadata(run_id, str(ref), fingerprint, inputs)
        return self._write_delta(ref, data, run_id, metadata, mode="overwrite",
                                 schema_mode="overwrite")

    def _write_delta(
        self,
        ref: TableRef,
        data: pa.RecordBatchReader,
        run_id: str,
        metadata: dict[str, str],
        *,
        mode: Literal["append", "overwrite"],
        schema_mode: Literal["merge", "overwrite"],
        predicate: str | None = None,
    ) -> WriteResult:
        """One `write_deltalake` commit carrying afluente's metadata and the run's app
        transaction; its errors become afluente's."""
        props = CommitProperties(
            custom_metadata=metadata,
            app_transactions=[Transaction(app_id=app_id(run_id), version=1)],
        )
        try:
            if mode == "overwrite":
                write_deltalake(
                    self.uri(ref), data, mode="overwrite", schema_mode=schema_mode,
                    predicate=predicate, configuration=TABLE_CONFIGURATION,
                    commit_properties=props, storage_options=self.storage_options,
                )
            else:
                write_deltalake(
                    self.uri(ref), data, mode="append", schema_mode=schema_mode,
                    configuration=TABLE_CONFIGURATION, commit_properties=props,
                    storage_options=self.storage_options,
                )
        except CommitFailedError as exc:
            raise CommitConflictError(
                f"another writer committed to `{ref}` first: {exc}",
                table=str(ref),
                run_id=run_id,
                hint="retry the run; no data was written",
            ) from exc
        except (DeltaError, SchemaMismatchError, OSError) as exc:
            raise StorageError(
                f"writing `{ref}` failed: {exc}", table=str(ref), run_id=run_id
            ) from exc
        last = self.history(ref, limit=1)[0]
        return WriteResult(version=last.version, rows=last.rows_added or 0)

    @property
    def is_local(self) -> bool:
        """Files can be staged and renamed into place (not object storage)."""
        return "://" not in self.root or self.root.startswith("file://")

    def staging_dir(self, ref: TableRef) -> Path:
        return staging_dir(self.root, ref)

    def commit_staged(
        self,
        ref: TableRef,
        staged: StagedFiles,
        *,
        run_id: str,
        fingerprint: str,
        inputs: dict[str, object],
        mode: Literal["overwrite", "append"] = "overwrite",
        progress: dict[str, object] | None = None,
    ) -> WriteResult:
        """Commit files an engine wrote, in one version: replacing the table's content, or
        appending to it (new columns added first) with the source's progress."""
        done = self.written_by(ref, run_id)
        if done is not None:
            shutil.rmtree(staged.directory, ignore_errors=True)
            return done
        if needs_protocol_upgrade(self.uri(ref), staged):
            # the Delta writer upgrades the table's protocol; read back the staged files
            try:
                reader = pads.dataset([str(f) for f in staged.files]).scanner().to_reader()
                if progress is None:
                    return self.write(
                        ref, reader, run_id=run_id, fingerprint=fingerprint, inputs=inputs
                    )
                return self.append(
                    ref, reader, run_id=run_id, fingerprint=fingerprint, inputs=inputs,
                    progress=progress, overwrite=mode == "overwrite",
                )
            finally:
                shutil.rmtree(staged.directory, ignore_errors=True)
        commit_staged(
            self.uri(ref), ref, staged, run_id=run_id, fingerprint=fingerprint, inputs=inputs,
            configuration=dict(TABLE_CONFIGURATION), mode=mode, progress=progress,
        )
        last = self.history(ref, limit=1)[0]
        return WriteResult(version=last.version, rows=staged.rows)

    def append(
        self,
        ref: TableRef,
        data: pa.RecordBatchReader,
        *,
        run_id: str,
        fingerprint: str,
        inputs: dict[str, object],
        progress: dict[str, object],
        overwrite: bool = False,
        replace_where: str | None = None,
    ) -> WriteResult:
        """Add rows (evolving the schema with new columns) and record the source's progress
        in the same commit. `replace_where` first removes the rows it matches, in that same
        commit; `overwrite` replaces the whole table (a full reload)."""
        done = self.written_by(ref, run_id)
        if done is not None:
            data.close()
            return done
        metadata = commit_metadata(run_id, str(ref), fingerprint, inputs, progress=progress)
        if overwrite:
            return self._write_delta(ref, data, run_id, metadata, mode="overwrite",
                                     schema_mode="overwrite")
        if replace_where and self.exists(ref):
            return self._write_delta(ref, data, run_id, metadata, mode="overwrite",
                                     schema_mode="merge", predicate=replace_where)
        return self._write_delta(ref, data, run_id, metadata, mode="append", schema_mode="merge")

    def progress_history(self, ref: TableRef) -> list[dict[str, object]]:
        """The progress recorded by each commit since the table was last overwritten (that
        one included) or since a progress marked complete, newest first: what an
        incremental source has already ingested."""
        if not self.exists(ref):
            return []
        found: list[dict[str, object]] = []
        for commit in self.history(ref):
            if commit.progress is not None:
                found.append(commit.progress)
                if commit.progress.get(COMPLETE):
                    break  # a connector's full summary: older commits add nothing
            if commit.overwrite:
                break
        return found

    def schema(self, ref: TableRef) -> pa.Schema | None:
        """The table's current Arrow schema, or None when it was never written."""
        if not self.exists(ref):
            return None
        return pa.schema(self.open(ref).schema().to_arrow())

    def written_by(self, ref: TableRef, run_id: str) -> WriteResult | None:
        """The write `run_id` already committed to `ref`, if any (a replayed run)."""
        if not self.exists(ref):
            return None
        table = self.open(ref)
        if table.transaction_version(app_id(run_id)) is None:
            return None
        for commit in self.history(ref):
            if commit.run_id == run_id:
                return WriteResult(commit.version, commit.rows_added or 0, already_written=True)
        return WriteResult(table.version(), 0, already_written=True)
