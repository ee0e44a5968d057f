"""The table a kind writes: every commit the incremental kinds make goes through here.

A `Target` is a handle on one Delta table (its URI, object-store options and the model name
for messages). Its operations are the writes the kinds need, each one atomic Delta version
carrying the caller's `CommitDescription` as commit metadata plus the run's app transaction:
create from a stream, append (new columns added), overwrite (whole table or a predicate),
upsert a diff by identity (delete / update / insert in one MERGE), add columns, an empty
bookkeeping commit, and the rewrite of view-typed files. delta-rs errors become afluente's
here: a lost commit race is a `CommitConflictError` (transient), anything else a
`StorageError`; either way the table keeps its previous version.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.dataset as pads
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, SchemaMismatchError
from deltalake.schema import Field as DeltaField

from afluente.errors import AfluenteError, CommitConflictError, StorageError
from afluente.sql_text import ident as _ident  # DataFusion (delta-rs MERGE) quotes alike
from afluente.storage.arrow_dataset import delta_dataset
from afluente.storage.commits import CommitDescription, app_id
from afluente.storage.view_types import rewrite_view_files
from afluente.storage.writable import ensure_writable

ACTION = "__afluente_action"  # the diff column saying what to do with a row
UPSERT, DELETE = "U", "D"
DELTA_FAILURES = (DeltaError, SchemaMismatchError, OSError)


@dataclass(frozen=True)
class Target:
    """Where a kind writes: a Delta table URI and its object-store options."""

    uri: str
    storage_options: dict[str, str] | None = None
    name: str | None = None  # the model name, for messages

    @property
    def label(self) -> str:
        return self.name or self.uri

    def exists(self) -> bool:
        return DeltaTable.is_deltatable(self.uri, storage_options=self.storage_options)

    def version(self) -> int | None:
        """The latest version, or None when the table was never written."""
        table = self._open()
        return None if table is None else table.version()

    def dataset(self) -> pads.Dataset | None:
        """The latest version as an Arrow dataset (projection and filter pushdown), or None
        when the table was never written."""
        table = self._open()
        return None if table is None else delta_dataset(table, self.storage_options)

    def schema(self) -> pa.Schema | None:
        table = self._open()
        return None if table is None else pa.schema(table.schema().to_arrow())

    def ensure_writable(self) -> None:
        ensure_writable(self.uri, self.label)

    def create(self, rows: pa.RecordBatchReader, commit: CommitDescription | None) -> int:
        """Create the table from `rows` (it must not exist yet); its first version."""
        with self._translated(DELTA_FAILURES):
            write_deltalake(self.uri, rows, mode="error", storage_options=self.storage_options,
                            commit_properties=_properties(commit))
        return 0

    def append(self, data: pa.Table | pa.RecordBatchReader, commit: CommitDescription | None,
               *, partition_by: list[str] | None = None) -> int:
        """Add rows, adding the new columns to the table; the new version."""
        with self._translated((Exception,)):
            write_deltalake(self.uri, data, mode="append", schema_mode="merge",
                            partition_by=partition_by, commit_properties=_properties(commit),
                            storage_options=self.storage_options)
        return self._latest()

    def overwrite(self, data: pa.Table | pa.RecordBatchReader,
                  commit: CommitDescription | None, *, partition_by: list[str] | None = None,
                  predicate: str | None = None) -> int:
        """Replace the table's content (schema too), or only the rows matching `predicate`
        (new columns added); the new version."""
        with self._translated((Exception,)):
            write_deltalake(self.uri, data, mode="overwrite",
                            schema_mode="overwrite" if predicate is None else "merge",
                            partition_by=partition_by, predicate=predicate,
                            commit_properties=_properties(commit),
                            storage_options=self.storage_options)
        return self._latest()

    def upsert(self, diff: pa.RecordBatchReader, identity: Sequence[str],
               columns: Sequence[str], commit: CommitDescription | None) -> int | None:
        """Apply a diff (`columns` + ACTION) by `identity` in one MERGE: DELETE rows remove
        their match, UPSERT rows update a match whose content differs or are inserted. The
        new version, or None when no row changed (delta-rs then commits nothing)."""
        table = self._open()
        assert table is not None, "upsert needs an existing table (use create)"
        before = table.version()
        # delta-rs raises a plain Exception for a value its MERGE cannot cast to the stored
        # type (an int64 beyond an int32 column), as its writer does for append/overwrite
        with self._translated((Exception,)):
            _merge(table, diff, identity, columns, commit)
        return table.version() if table.version() != before else None

    def add_columns(self, fields: Sequence[pa.Field]) -> None:
        table = self._open()
        assert table is not None
        with self._translated(DELTA_FAILURES):
            table.alter.add_columns([DeltaField.from_arrow(f) for f in fields])

    def record(self, commit: CommitDescription | None) -> int | None:
        """An empty commit carrying `commit` (the inputs moved on, the rows did not); its
        version, or None when the table was never written."""
        schema = self.schema()
        if schema is None:
            return None
        self.append(schema.empty_table(), commit)
        return self._latest()

    def plain_types(self, commit: CommitDescription | None) -> int | None:
        """Rewrite the view-typed files the last commit added (see `view_types`); the new
        version, or None when there were none."""
        with self._translated((Exception,)):
            return rewrite_view_files(self.uri, _properties(commit))

    def _open(self) -> DeltaTable | None:
        if not self.exists():
            return None
        return DeltaTable(self.uri, storage_options=self.storage_options)

    def _latest(self) -> int:
        version = self.version()
        assert version is not None
        return version

    @contextmanager
    def _translated(self, failures: tuple[type[Exception], ...]) -> Iterator[None]:
        try:
            yield
        except AfluenteError:
            raise
        except CommitFailedError as exc:
            raise CommitConflictError(
                f"another writer committed to `{self.label}` first: {exc}",
                table=self.label,
                hint="retry the run; nothing was written",
            ) from exc
        except failures as exc:
            raise StorageError(
                f"writing `{self.label}` failed: {exc}",
                table=self.label,
                hint="the table is unchanged; see the error above",
            ) from exc


@contextmanager
def scratch_target(name: str) -> Iterator[Target]:
    """A fresh local table to build into (a rebuild), removed afterwards."""
    folder = tempfile.mkdtemp(prefix="afluente-rebuild-")
    try:
        yield Target(folder, None, name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _properties(commit: CommitDescription | None) -> CommitProperties | None:
    if commit is None:
        return None
    return CommitProperties(
        custom_metadata=commit.metadata(),
        app_transactions=[Transaction(app_id=app_id(commit.run_id), version=1)],
    )


def _merge(table: DeltaTable, diff: pa.RecordBatchReader, identity: Sequence[str],
           columns: Sequence[str], commit: CommitDescription | None) -> None:
    assign = {_ident(c): f"s.{_ident(c)}" for c in columns}
    upsert, delete = f"s.{_ident(ACTION)} = '{UPSERT}'", f"s.{_ident(ACTION)} = '{DELETE}'"
    predicate = " AND ".join(f"t.{_ident(c)} = s.{_ident(c)}" for c in identity)
    # Only rows whose content differs are rewritten: delta-rs skips the commit when no row
    # changes, so re-applying the same input leaves no new version.
    differs = " OR ".join(
        f"(t.{_ident(c)} IS DISTINCT FROM s.{_ident(c)})" for c in columns if c not in identity
    )
    changed = f"{upsert} AND ({differs})" if differs else "false"
    (
        table.merge(diff, predicate, source_alias="s", target_alias="t",
                    commit_properties=_properties(commit))
        .when_matched_delete(delete)
        .when_matched_update(assign, changed)
        .when_not_matched_insert(assign, upsert)
        .execute()
    )
