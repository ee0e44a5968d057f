"""The table a kind writes: every commit the incremental kinds make goes through here.

A `Target` is a handle on one Delta table (its URI, object-store options and the model name
for messages). Its operations are the writes the kinds need, each one atomic Delta version
carrying the caller's `CommitDescription` as commit metadata plus the run's app transaction:
create from a stream, append (new columns added), overwrite (whole table or a predicate),
upsert a diff by identity (delete / update / insert in one MERGE), add columns, an empty
bookkeeping commit, and the rewrite of view-typed files.

A table that kinds upsert into is kept in files of about `KEYED_FILE_BYTES` (the caller
writes its first version ordered by the identity), so each file covers a narrow key range;
an upsert given the key ranges its diff touches (`key_ranges`, from the log's statistics)
lets the MERGE read and rewrite only the files in those ranges instead of the whole table.

delta-rs errors become afluente's here: a lost commit race is a `CommitConflictError`
(transient), anything else a `StorageError`; either way the table keeps its previous version.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.dataset as pads
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, SchemaMismatchError
from deltalake.schema import Field as DeltaField

from afluente.errors import AfluenteError, CommitConflictError, StorageError
from afluente.sql_text import ident as _ident  # DataFusion (delta-rs MERGE) quotes alike
from afluente.storage.arrow_dataset import delta_dataset
from afluente.storage.commits import CommitDescription, app_id
from afluente.storage.file_stats import key_ranges
from afluente.storage.sealed_target import TableSealing
from afluente.storage.stats_columns import stats_property
from afluente.storage.view_types import rewrite_view_files
from afluente.storage.writable import ensure_writable

ACTION = "__afluente_action"  # the diff column saying what to do with a row
UPSERT, DELETE = "U", "D"
DELTA_FAILURES = (DeltaError, SchemaMismatchError, OSError)
#: The size of the files of a table that kinds upsert into: a MERGE rewrites every file
#: holding a key it updates or deletes, so the file size bounds that cost per key range.
KEYED_FILE_BYTES = 4 * 1024 * 1024
#: More touched ranges than this are pruned as one range (a long OR costs the MERGE more).
MAX_PRUNED_RANGES = 64
KeyRange = tuple[Any, Any]  # the bounds of one column: ints, strings or dates


@dataclass(frozen=True)
class Target:
    """Where a kind writes: a Delta table URI and its object-store options."""

    uri: str
    storage_options: dict[str, str] | None = None
    name: str | None = None  # the model name, for messages
    #: its columns → the ones holding personal data, kept out of the file statistics from
    #: the table's creation (`stats_columns`)
    private: Callable[[Sequence[str]], Collection[str]] | None = field(default=None,
                                                                        compare=False)
    #: its encrypted columns (`governance.encryption`): sealed on every write, opened for
    #: the kinds' reads, resealed against the stored rows before a MERGE (`sealed_target`)
    sealing: TableSealing | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        return self.name or self.uri

    def exists(self) -> bool:
        return DeltaTable.is_deltatable(self.uri, storage_options=self.storage_options)

    def version(self) -> int | None:
        """The latest version, or None when the table was never written."""
        table = self._open()
        return None if table is None else table.version()

    def dataset(self, within: tuple[str, Sequence[KeyRange]] | None = None
                ) -> pads.Dataset | None:
        """The latest version as an Arrow dataset (projection and filter pushdown), or None
        when the table was never written. `within=(column, ranges)`: only the files whose
        range of `column` (log statistics) overlaps one of `ranges`, when they bound it."""
        dataset = self.stored(within)
        if dataset is None or self.sealing is None:
            return dataset
        return self.sealing.opened(dataset)

    def stored(self, within: tuple[str, Sequence[KeyRange]] | None = None
               ) -> pads.Dataset | None:
        """`dataset` as stored: encrypted columns as their ciphertext."""
        table = self._open()
        if table is None:
            return None
        dataset = delta_dataset(table, self.storage_options)
        if within is not None and self._sealed(within[0]):
            within = None  # ciphertext has no useful range
        files = None if within is None else key_ranges(table, within[0])
        if files is None or not isinstance(dataset, pads.FileSystemDataset):
            return dataset
        assert within is not None
        wanted = {unquote(path) for path, (lo, hi) in files.items()
                  if any(lo <= high and low <= hi for low, high in within[1])}
        fragments = [f for f in dataset.get_fragments() if unquote(f.path) in wanted]
        return pads.FileSystemDataset(fragments, schema=dataset.schema, format=dataset.format,
                                      filesystem=dataset.filesystem)

    def _refuse_sealed_partitions(self, schema: pa.Schema,
                                  partition_by: list[str] | None) -> None:
        if self.sealing is None or not partition_by:
            return
        sealed = [c for c in self.sealing.columns(schema.names) if c in partition_by]
        if sealed:
            raise StorageError(
                f"`{self.label}` cannot be partitioned by {', '.join(sealed)}: the column is "
                "stored encrypted (random nonces: no two values alike); nothing was written",
                table=self.label,
                hint="partition by a column that is not personal data, or leave this one "
                     "out of governance.encryption")

    def _sealed(self, column: str) -> bool:
        return self.sealing is not None and self.sealing.is_sealed(column)

    def _seal(self, data: pa.Table | pa.RecordBatchReader) -> pa.Table | pa.RecordBatchReader:
        if self.sealing is None:
            return data
        if isinstance(data, pa.Table):
            data = pa.RecordBatchReader.from_batches(data.schema, data.to_batches())
        return self.sealing.seal(data)

    def schema(self) -> pa.Schema | None:
        table = self._open()
        return None if table is None else pa.schema(table.schema().to_arrow())

    def ensure_writable(self) -> None:
        ensure_writable(self.uri, self.label)

    def create(self, rows: pa.RecordBatchReader, commit: CommitDescription | None) -> int:
        """Create the table from `rows` (it must not exist yet) in files of about
        `KEYED_FILE_BYTES`, which later MERGEs keep too; its first version."""
        size = str(KEYED_FILE_BYTES)
        names = rows.schema.names
        private = {} if self.private is None else stats_property(names, self.private(names))
        with self._translated(DELTA_FAILURES):
            write_deltalake(self.uri, self._seal(rows), mode="error",
                            storage_options=self.storage_options,
                            target_file_size=KEYED_FILE_BYTES,
                            configuration={"delta.targetFileSize": size, **private},
                            commit_properties=_properties(commit))
        return 0

    def key_ranges(self, column: str) -> list[KeyRange] | None:
        """Each data file's `(min, max)` of `column` from the log's statistics (see
        `file_stats.key_ranges`); None when they do not bound every file or the table was
        never written."""
        table = None if self._sealed(column) else self._open()  # ciphertext: no range
        ranges = None if table is None else key_ranges(table, column)
        return None if ranges is None else list(ranges.values())

    def append(self, data: pa.Table | pa.RecordBatchReader, commit: CommitDescription | None,
               *, partition_by: list[str] | None = None, sealed: bool = False) -> int:
        """Add rows, adding the new columns to the table; the new version. `sealed`: `data`
        is already as stored (its encrypted columns ciphertext)."""
        data = data if sealed else self._seal(data)
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
        self._refuse_sealed_partitions(data.schema, partition_by)
        with self._translated((Exception,)):
            write_deltalake(self.uri, self._seal(data), mode="overwrite",
                            schema_mode="overwrite" if predicate is None else "merge",
                            partition_by=partition_by, predicate=predicate,
                            commit_properties=_properties(commit),
                            storage_options=self.storage_options)
        return self._latest()

    def upsert(self, diff: pa.RecordBatchReader, identity: Sequence[str],
               columns: Sequence[str], commit: CommitDescription | None,
               *, within: Sequence[KeyRange] | None = None) -> int | None:
        """Apply a diff (`columns` + ACTION) by `identity` in one MERGE: DELETE rows remove
        their match, UPSERT rows update a match whose content differs or are inserted. The
        new version, or None when no row changed (delta-rs then commits nothing).

        `within`: ranges of `identity[0]` that hold every key of the diff that can match a
        stored row (the files' ranges its keys fall in); the MERGE then reads and rewrites
        only the files in them. None: the whole table is read."""
        table = self._open()
        assert table is not None, "upsert needs an existing table (use create)"
        before = table.version()
        if self.sealing is not None and self.sealing.columns(columns):
            diff = pa.RecordBatchReader.from_batches(diff.schema, self.sealing.resealed(
                diff.read_all(), self.stored(None if within is None else (identity[0], within)),
                identity, columns).to_batches())
        prune = None if within is None else _in_ranges(f"t.{_ident(identity[0])}", within)
        # delta-rs raises a plain Exception for a value its MERGE cannot cast to the stored
        # type (an int64 beyond an int32 column), as its writer does for append/overwrite
        with self._translated((Exception,)):
            _merge(table, diff, identity, columns, commit, prune)
        return table.version() if table.version() != before else None

    def add_columns(self, fields: Sequence[pa.Field]) -> None:
        table = self._open()
        assert table is not None
        if self.sealing is not None:
            fields = self.sealing.sealed_fields(fields,
                                                pa.schema(table.schema().to_arrow()).names)
        with self._translated(DELTA_FAILURES):
            table.alter.add_columns([DeltaField.from_arrow(f) for f in fields])

    def record(self, commit: CommitDescription | None) -> int | None:
        """An empty commit carrying `commit` (the inputs moved on, the rows did not); its
        version, or None when the table was never written."""
        schema = self.schema()
        if schema is None:
            return None
        self.append(schema.empty_table(), commit, sealed=True)
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
def scratch_target(name: str, sealing: TableSealing | None = None) -> Iterator[Target]:
    """A fresh local table to build into (a rebuild), removed afterwards; `sealing`: the
    real table's encryption (the scratch files hold no plaintext either)."""
    folder = tempfile.mkdtemp(prefix="afluente-rebuild-")
    try:
        yield Target(folder, None, name, sealing=sealing)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _properties(commit: CommitDescription | None) -> CommitProperties | None:
    if commit is None:
        return None
    return CommitProperties(
        custom_metadata=commit.metadata(),
        app_transactions=[Transaction(app_id=app_id(commit.run_id), version=1)],
    )


def _in_ranges(column: str, ranges: Sequence[KeyRange]) -> str | None:
    """A DataFusion condition: `column` lies in one of `ranges` (None when a bound is of a
    type not rendered here; `false` when there is no range)."""
    merged = _coalesced(ranges)
    if len(merged) > MAX_PRUNED_RANGES:
        merged = [(merged[0][0], max(hi for _, hi in merged))]
    terms = []
    for lo, hi in merged:
        low, high = _datafusion_literal(lo), _datafusion_literal(hi)
        if low is None or high is None:
            return None
        terms.append(f"({column} >= {low} AND {column} <= {high})")
    return f"({' OR '.join(terms)})" if terms else "false"


def _coalesced(ranges: Sequence[KeyRange]) -> list[KeyRange]:
    """The ranges sorted, overlapping ones joined."""
    merged: list[list[Any]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def _datafusion_literal(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, date) and not isinstance(value, datetime):
        return f"CAST('{value.isoformat()}' AS DATE)"
    return None


def _merge(table: DeltaTable, diff: pa.RecordBatchReader, identity: Sequence[str],
           columns: Sequence[str], commit: CommitDescription | None,
           prune: str | None) -> None:
    assign = {_ident(c): f"s.{_ident(c)}" for c in columns}
    upsert, delete = f"s.{_ident(ACTION)} = '{UPSERT}'", f"s.{_ident(ACTION)} = '{DELETE}'"
    predicate = " AND ".join(f"t.{_ident(c)} = s.{_ident(c)}" for c in identity)
    if prune is not None:  # stored rows outside the ranges cannot match: skip their files
        predicate = f"{predicate} AND {prune}"
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
