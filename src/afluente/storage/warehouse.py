"""The warehouse: every table a Delta table at `<warehouse>/<layer>/<table>`.

Every write is one atomic Delta commit. Its commit info carries the run id, the model's
fingerprint and the versions of the inputs it read; a Delta app transaction keyed by the run
id makes a retried run unable to write the same table twice.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, SchemaMismatchError
from deltalake.exceptions import TableNotFoundError as DeltaTableNotFound

from afluente.errors import (
    CommitConflictError,
    DataEnvironmentError,
    StorageError,
    TableNotFoundError,
)
from afluente.model import TableRef
from afluente.storage.arrow_dataset import delta_dataset
from afluente.storage.commits import (
    COMPLETE,
    ERASURE,
    CommitInfo,
    app_id,
    commit_metadata,
    commit_transactions,
)
from afluente.storage.damage import (
    LOG,
    damaged,
    first_line,
    log_damage,
    missing_files,
    readable_commits,
)
from afluente.storage.encrypted_write import BatchCipher, encrypting
from afluente.storage.env_records import DATA_ENV_VARIABLE, PROD, EnvStore, Pinned
from afluente.storage.file_stats import rows_from_stats
from afluente.storage.log_head import read_head
from afluente.storage.repair import Restored, restore_readable, set_aside
from afluente.storage.schema_history import SchemaChange, schema_changes
from afluente.storage.sealed_target import TableSealing
from afluente.storage.staged import (
    StagedFiles,
    commit_staged,
    needs_protocol_upgrade,
    staging_dir,
)
from afluente.storage.stats_columns import PrivateColumns, stats_property
from afluente.storage.time_travel import describe_wanted, load_at
from afluente.storage.writable import ensure_writable

TABLE_CONFIGURATION: dict[str, str | None] = {
    "delta.setTransactionRetentionDuration": "interval 30 days"
}


@dataclass(frozen=True)
class TableHead:
    """A table's newest commit and, when asked, its rows from the log's file statistics."""

    last: CommitInfo | None
    rows: int | None = None  # None: not asked, or a data file without a row count


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one write: the version it made (or found) and the rows it added."""

    version: int
    rows: int
    already_written: bool = False


class Warehouse:
    """Reads and writes the project's Delta tables."""

    def __init__(self, root: str, storage_options: dict[str, str] | None = None,
                 environment: str | None = None) -> None:
        self.root = root.rstrip("/")
        self.storage_options = storage_options
        #: the data environment this warehouse resolves tables for (None: prod; see
        #: docs/environments.md): THE place a table is located, for every read and write
        chosen = environment or os.environ.get(DATA_ENV_VARIABLE) or PROD
        self.environment = None if chosen == PROD else chosen
        self.pinned: dict[str, Pinned] = {}
        self.own: frozenset[str] = frozenset()
        if self.is_local:
            self.pinned, self.own = EnvStore(self.root).locations(self.environment)
        #: which columns of a table hold personal data, asked when a write creates the
        #: table (set by the runtime): they are kept out of its file statistics
        self.private_columns: PrivateColumns | None = None
        #: the columns stored encrypted and their encryption (set by the runtime when
        #: `governance.encryption` is declared): every write passes through it
        self.encryptor: BatchCipher | None = None

    def sealing(self, ref: TableRef) -> TableSealing | None:
        """The encryption of `ref`'s columns, for a `Target` the kinds write; None when the
        project declares none."""
        return None if self.encryptor is None else TableSealing(self.encryptor, ref)

    def private_of(self, ref: TableRef) -> Callable[[Sequence[str]], Collection[str]] | None:
        """`ref`'s columns → its personal ones, for a `Target` that may create it."""
        found = self.private_columns
        return None if found is None else functools.partial(found, ref)

    def creation_properties(self, ref: TableRef, columns: Sequence[str]) -> dict[str, str]:
        """The properties a new table `ref` gets beyond afluente's defaults: its personal
        columns kept out of the file statistics from its first commit."""
        if self.private_columns is None:
            return {}
        return stats_property(columns, self.private_columns(ref, columns))

    def uri(self, ref: TableRef) -> str:
        """Where `ref` lives for this warehouse's environment: the pointer's location, else
        `<warehouse>/<layer>/<table>`."""
        found = self.pinned.get(str(ref))
        if found is not None:
            return found.uri
        beside = self._beside(ref)
        if beside is not None:  # `<table>__quarantine` & co. live beside their table
            return f"{self.pinned[beside].uri.rsplit('/', 1)[0]}/{ref.name}"
        return f"{self.root}/{ref.layer}/{ref.name}"

    def _beside(self, ref: TableRef) -> str | None:
        """The pointed-at table `ref` is written beside (its quarantine, late rows,
        closed windows, CDC storage), if any."""
        if "__" not in ref.name or not self.pinned:
            return None
        table = f"{ref.layer}.{ref.name.split('__', 1)[0]}"
        return table if table in self.pinned else None

    def pinned_version(self, ref: TableRef) -> int | None:
        """The base's version an environment reads `ref` at (None: the latest)."""
        found = self.pinned.get(str(ref))
        return None if found is None else found.version

    def check_writable_here(self, ref: TableRef) -> None:
        """An environment writes only its own tables: the others are its base's, read-only."""
        if self.environment is None or str(ref) in self.own or self._beside(ref) in self.own:
            return
        raise DataEnvironmentError(
            f"environment `{self.environment}` reads `{ref}` from its base (read-only)",
            table=str(ref),
            hint=f"re-plan with `afluente plan --env {self.environment}` to include it",
        )

    def exists(self, ref: TableRef) -> bool:
        try:
            return DeltaTable.is_deltatable(self.uri(ref), storage_options=self.storage_options)
        except OSError:  # e.g. a file where the table's folder should be: no table
            return False

    def open(
        self, ref: TableRef, version: int | None = None, as_of: datetime | str | None = None
    ) -> DeltaTable:
        """The table at its latest version, a given version, or as of a time."""
        if version is None and as_of is None:
            version = self.pinned_version(ref)
        try:
            table = DeltaTable(self.uri(ref), storage_options=self.storage_options)
            load_at(table, ref, version, as_of)
        except DeltaTableNotFound:
            raise TableNotFoundError(
                f"table `{ref}` has not been built yet (no Delta table at {self.uri(ref)})",
                table=str(ref),
                hint=f"run `afluente run --select +{ref}` to build it",
            ) from None
        except (DeltaError, ValueError, OSError) as exc:
            raise self._unreadable(ref, exc, version, as_of) from None
        return table

    def _unreadable(
        self, ref: TableRef, exc: Exception, version: int | None, as_of: datetime | str | None
    ) -> StorageError:
        """The error for a table delta-rs could not load: the damaged file when one is
        found, else delta-rs's reason (its first line: no Rust backtrace)."""
        reason = first_line(exc)
        damage = log_damage(self.local_dir(ref)) if self.is_local else None
        if damage is not None:
            return damaged(ref, damage.describe())
        return StorageError(
            f"cannot load `{ref}`{describe_wanted(version, as_of)}: {reason}",
            table=str(ref),
            hint=f"see the versions with `afluente history {ref}`; if the table is damaged, "
            f"`afluente repair {ref}`",
        )

    def local_dir(self, ref: TableRef) -> Path:
        return Path(self.uri(ref).removeprefix("file://"))

    def verify_files(self, ref: TableRef, table: DeltaTable) -> None:
        """Raise DamagedTableError when a data file the loaded version references is gone
        (local tables: one stat per file, no data read)."""
        if self.is_local:
            self._verify_paths(ref, table.file_uris(), table.version())

    def _verify_paths(self, ref: TableRef, uris: list[str], version: int) -> None:
        missing = missing_files(uris)
        if missing:
            erased = self._erased_after(ref, version)
            if erased is not None:
                request, since = erased
                raise StorageError(
                    f"version {version} of `{ref}` was written before the erasure {request} "
                    f"(`afluente forget`), which vacuumed its files: the table is not "
                    f"damaged, versions before {since} can no longer be read",
                    table=str(ref),
                    hint=f"read version {since} or later; the erasure's certificate is "
                         f".afluente/erasures/{request}.json")
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise damaged(ref, f"data file {missing[0]}{more} of version {version} is missing")

    def _erased_after(self, ref: TableRef, version: int) -> tuple[str, int] | None:
        """The newest erasure (`afluente forget`) committed after `version`: its request id
        and version; None when none was (missing files are then damage)."""
        try:
            entries = DeltaTable(self.uri(ref), storage_options=self.storage_options).history()
        except (DeltaError, ValueError, OSError):
            return None
        found: tuple[str, int] | None = None
        for entry in entries:  # newest first; an erasure's vacuum commits name it too
            request = entry.get(ERASURE)
            if int(entry["version"]) <= version or (found and request != found[0]):
                break
            if isinstance(request, str):
                found = (request, int(entry["version"]))
        return found

    def appended_across_rewrites(self, ref: TableRef, since: int, version: int,
                                 now: Sequence[str]) -> tuple[str, ...] | None:
        """The files of `now` (version `version`'s) holding the rows appended after `since`
        when files were also rewritten in between (compaction, Z-order); None when rows
        changed otherwise or it cannot tell (see `storage.rewrites`; local tables only)."""
        if not self.is_local:
            return None
        from afluente.storage.rewrites import appended_across_rewrites

        return appended_across_rewrites(self.local_dir(ref), since, version, now)

    def version(self, ref: TableRef) -> int | None:
        """The latest version, or None when the table was never written."""
        return self.open(ref).version() if self.exists(ref) else None

    def dataset(self, ref: TableRef, version: int | None = None) -> pads.Dataset:
        """An Arrow dataset over the table (projection and filter pushdown for engines)."""
        return self.readable(ref, self.open(ref, version=version))

    def readable(self, ref: TableRef, table: DeltaTable) -> pads.Dataset:
        """The dataset of a version already loaded, its data files checked (see `dataset`),
        scanned through Arrow's own file system (`arrow_dataset.delta_dataset`)."""
        self.verify_files(ref, table)
        return delta_dataset(table, self.storage_options)

    def history(self, ref: TableRef, limit: int | None = None) -> list[CommitInfo]:
        """Versions newest first."""
        try:
            entries = self.open(ref).history(limit)
        except (DeltaError, ValueError, OSError) as exc:
            raise self._unreadable(ref, exc, None, None) from None
        return [CommitInfo.from_history(e) for e in entries]

    def readable_history(self, ref: TableRef) -> list[CommitInfo]:
        """The versions of a damaged local table whose commit files still parse, newest
        first, read straight from its log (delta-rs cannot load it)."""
        if not self.is_local:
            return []
        return [CommitInfo.from_history(e) for e in readable_commits(self.local_dir(ref))]

    def schema_history(self, ref: TableRef) -> list[SchemaChange]:
        """Every version that changed the table's schema, oldest first (the first one is the
        creation)."""
        return schema_changes(self.open(ref), self.history(ref))

    def last_commit(self, ref: TableRef, verify: bool = False) -> CommitInfo | None:
        """The newest commit, or None when the table was never written (one log read);
        `verify`: also check the data files it references are there."""
        return self.head(ref, verify=verify).last

    def head(self, ref: TableRef, *, verify: bool = False, count_rows: bool = False) -> TableHead:
        """The newest commit (None when the table was never written) from one load of the
        log; `verify`: check the data files it references are there; `count_rows`: also
        the version's rows, summed from the files' statistics (no data file read).
        A local table's log is read here first (`log_head.py`); delta-rs loads the table
        when that reader leaves it (checkpoint kinds, reader features, damage). A table an
        environment reads at a pinned version: that version's commit."""
        if self.pinned_version(ref) is not None:
            return self._pinned_head(ref, verify, count_rows)
        if self.is_local:
            if not (self.local_dir(ref) / LOG).is_dir():
                return TableHead(None)
            fast = read_head(self.local_dir(ref))
            if fast is not None:
                if verify:
                    self._verify_paths(ref, [str(p) for p in fast.files], fast.version)
                return TableHead(CommitInfo.from_history(fast.commit),
                                 fast.rows if count_rows else None)
        if not self.exists(ref):
            return TableHead(None)
        table = self.open(ref)
        if verify:
            self.verify_files(ref, table)
        try:
            history = table.history(1)
            rows = rows_from_stats(table) if count_rows else None
        except (DeltaError, ValueError, OSError) as exc:
            raise self._unreadable(ref, exc, None, None) from None
        return TableHead(CommitInfo.from_history(history[0]) if history else None, rows)

    def _pinned_head(self, ref: TableRef, verify: bool, count_rows: bool) -> TableHead:
        table = self.open(ref)
        if verify:
            self.verify_files(ref, table)
        try:
            commits = [c for c in self.history(ref) if c.version == table.version()]
            rows = rows_from_stats(table) if count_rows else None
        except (DeltaError, ValueError, OSError) as exc:
            raise self._unreadable(ref, exc, None, None) from None
        return TableHead(commits[0] if commits else None, rows)

    def write(
        self,
        ref: TableRef,
        data: pa.RecordBatchReader,
        *,
        run_id: str,
        fingerprint: str,
        inputs: dict[str, object],
        file_bytes: int | None = None,
        sealed: bool = False,
    ) -> WriteResult:
        """Replace the table's content in one atomic commit (once per run id); `file_bytes`:
        the size of its files (kept by later MERGEs too), else delta-rs's default; `sealed`:
        `data`'s encrypted columns are already ciphertext for this table (a rebuild's)."""
        done = self.written_by(ref, run_id)
        if done is not None:
            data.close()
            return done
        metadata = commit_metadata(run_id, str(ref), fingerprint, inputs)
        return self._write_delta(ref, data, run_id, metadata, mode="overwrite",
                                 schema_mode="overwrite", file_bytes=file_bytes, sealed=sealed)

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
        progress: dict[str, object] | None = None,
        file_bytes: int | None = None,
        sealed: bool = False,
    ) -> WriteResult:
        """One `write_deltalake` commit carrying afluente's metadata, the run's app
        transaction and the progress's source positions; its errors become afluente's."""
        self.check_writable_here(ref)
        ensure_writable(self.uri(ref), str(ref))
        if not sealed:
            data = encrypting(data, ref, self.encryptor)
        props = CommitProperties(
            custom_metadata=metadata,
            app_transactions=commit_transactions(run_id, progress),
        )
        created = ({} if self.private_columns is None or self.exists(ref)
                   else self.creation_properties(ref, data.schema.names))
        try:
            if mode == "overwrite":
                sized = {"delta.targetFileSize": str(file_bytes)} if file_bytes else {}
                write_deltalake(
                    self.uri(ref), data, mode="overwrite", schema_mode=schema_mode,
                    predicate=predicate,
                    configuration={**TABLE_CONFIGURATION, **sized, **created},
                    target_file_size=file_bytes, commit_properties=props,
                    storage_options=self.storage_options,
                )
            else:
                write_deltalake(
                    self.uri(ref), data, mode="append", schema_mode=schema_mode,
                    configuration={**TABLE_CONFIGURATION, **created}, commit_properties=props,
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

    def set_aside(self, ref: TableRef) -> Path:
        """Move a damaged table's folder under `_damaged/` (a rebuild then starts at v0)."""
        return set_aside(self._local_root, self._local(ref), ref)

    def restore_readable(self, ref: TableRef) -> Restored:
        """Bring a damaged table back to its last readable version; what was lost."""
        return restore_readable(self._local_root, self._local(ref), ref)

    @property
    def _local_root(self) -> Path:
        return Path(self.root.removeprefix("file://"))

    def _local(self, ref: TableRef) -> Path:
        if not self.is_local:
            raise StorageError(
                f"repairing `{ref}` needs a local warehouse ({self.root} is object storage)",
                table=str(ref), hint="repair the table with your object store's tools",
            )
        if not self.local_dir(ref).exists():
            self.open(ref)  # raises TableNotFoundError with a hint
        return self.local_dir(ref)

    @property
    def is_local(self) -> bool:
        """Files can be staged and renamed into place (not object storage)."""
        return "://" not in self.root or self.root.startswith("file://")

    def staging_dir(self, ref: TableRef, run_id: str) -> Path:
        """A fresh folder for an engine to write `ref`'s files into during run `run_id`,
        once the table's folder is known to be writable (before any work is done)."""
        self.check_writable_here(ref)
        ensure_writable(self.uri(ref), str(ref))
        return staging_dir(self.root, ref, run_id)

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
        try:
            self.check_writable_here(ref)
            ensure_writable(self.uri(ref), str(ref))
        except (StorageError, DataEnvironmentError):
            shutil.rmtree(staged.directory, ignore_errors=True)
            raise
        if needs_protocol_upgrade(self.uri(ref), staged) or self._encrypts(ref, staged):
            # the Delta writer upgrades the table's protocol (or encrypts columns): read
            # back the staged files
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
        created = ({} if self.private_columns is None or not staged.files or self.exists(ref)
                   else self.creation_properties(ref, pq.read_schema(staged.files[0]).names))
        commit_staged(
            self.uri(ref), ref, staged, run_id=run_id, fingerprint=fingerprint, inputs=inputs,
            configuration={**TABLE_CONFIGURATION, **created}, mode=mode, progress=progress,
        )
        last = self.history(ref, limit=1)[0]
        return WriteResult(version=last.version, rows=staged.rows)

    def _encrypts(self, ref: TableRef, staged: StagedFiles) -> bool:
        if self.encryptor is None or not staged.files:
            return False
        return bool(self.encryptor.columns(ref, pq.read_schema(staged.files[0]).names))

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
                                     schema_mode="overwrite", progress=progress)
        if replace_where and self.exists(ref):
            return self._write_delta(ref, data, run_id, metadata, mode="overwrite",
                                     schema_mode="merge", predicate=replace_where,
                                     progress=progress)
        return self._write_delta(ref, data, run_id, metadata, mode="append", schema_mode="merge",
                                 progress=progress)

    def progress_history(self, ref: TableRef) -> list[dict[str, object]]:
        """The progress recorded by each commit since the table was last overwritten (that
        one included) or since a progress marked complete, newest first: what an
        incremental source has already ingested."""
        if not self.exists(ref):
            return []
        # the newest commits first: a stream's every commit sums up its progress, so its
        # history (one commit per micro-batch) is not read back each time
        recent = self.history(ref, limit=PROGRESS_WINDOW)
        found, complete = _progress_since_summary(recent)
        if complete or len(recent) < PROGRESS_WINDOW:
            return found
        return _progress_since_summary(self.history(ref))[0]

    def transaction_version(self, ref: TableRef, app: str) -> int | None:
        """The version Delta holds for app transaction `app` (a source position), or None."""
        if not self.exists(ref):
            return None
        return self.open(ref).transaction_version(app)

    def commit_marks(self, refs: Sequence[TableRef]) -> dict[str, int | None] | None:
        """Each table's newest commit version from a listing of its log (no table loaded),
        what a cache of anything derived from the tables' schemas is keyed by; None for a
        remote warehouse (no cheap listing: the caller computes afresh)."""
        if not self.is_local:
            return None
        from afluente.storage.log_head import newest_commit

        return {str(ref): newest_commit(self.local_dir(ref)) for ref in refs}

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


PROGRESS_WINDOW = 16  # commits read first when looking for a source's progress


def _progress_since_summary(
    history: list[CommitInfo],
) -> tuple[list[dict[str, object]], bool]:
    """The progress of `history` (newest first) back to the last overwrite or complete
    summary, and whether one was found (if not, older commits may add to it)."""
    found: list[dict[str, object]] = []
    for commit in history:
        if commit.progress is not None:
            found.append(commit.progress)
            if commit.progress.get(COMPLETE):
                return found, True  # a connector's full summary: older commits add nothing
        if commit.overwrite:
            return found, True
    return found, False
