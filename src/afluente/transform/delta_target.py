"""The Delta side of every kind: read the target into DuckDB, commit a diff in one version.

A kind computes a *diff* against the target: rows to upsert (`U`) and rows to delete (`D`),
identified by an identity (the unique key for a merge, key + validity start for SCD2). The
diff is committed with one delta-rs MERGE, so the write is one atomic Delta version and a
failure leaves the target at its previous version. An empty diff commits nothing, which is
what makes re-applying the same input a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, SchemaMismatchError

from afluente.errors import CommitConflictError, StorageError
from afluente.streams import relation_reader
from afluente.transform.sqltext import col_list, ident

ACTION = "__afluente_action"


@dataclass(frozen=True)
class Target:
    """Where a kind writes: a Delta table URI and its object-store options."""

    uri: str
    storage_options: dict[str, str] | None = None
    name: str | None = None  # the model name, for messages

    @property
    def label(self) -> str:
        return self.name or self.uri

    def open(self) -> DeltaTable | None:
        """The table at its latest version, or None when it was never written."""
        if not DeltaTable.is_deltatable(self.uri, storage_options=self.storage_options):
            return None
        return DeltaTable(self.uri, storage_options=self.storage_options)


def register_target(con: duckdb.DuckDBPyConnection, table: DeltaTable, name: str) -> None:
    """Expose the target to DuckDB as an Arrow dataset (projection/filter pushdown)."""
    con.register(name, table.to_pyarrow_dataset())


def commit_diff(
    con: duckdb.DuckDBPyConnection,
    target: Target,
    diff: str,
    identity: Sequence[str],
    columns: Sequence[str],
    commit_properties: CommitProperties | None,
) -> int | None:
    """Commit temp table `diff` (`columns` + ACTION) to the target; the new version or None.

    Nothing is committed when the diff is empty.
    """
    changed = con.execute(f"SELECT count(*) FROM {ident(diff)}").fetchone()
    if not changed or not changed[0]:
        return None
    table = target.open()
    try:
        if table is None:
            return _create(con, target, diff, columns, commit_properties)
        before = table.version()
        _merge(con, table, diff, identity, columns, commit_properties)
    except CommitFailedError as exc:
        raise CommitConflictError(
            f"another writer committed to `{target.label}` first: {exc}",
            table=target.label,
            hint="retry the run; nothing was written",
        ) from exc
    except (DeltaError, SchemaMismatchError, OSError) as exc:
        raise StorageError(
            f"writing `{target.label}` failed: {exc}",
            table=target.label,
            hint="the table is unchanged; see the error above",
        ) from exc
    # delta-rs commits nothing when no row changed
    return table.version() if table.version() != before else None


def _create(
    con: duckdb.DuckDBPyConnection,
    target: Target,
    diff: str,
    columns: Sequence[str],
    commit_properties: CommitProperties | None,
) -> int:
    rows = relation_reader(
        con.sql(f"SELECT {col_list(columns)} FROM {ident(diff)} WHERE {ident(ACTION)} = 'U'")
    )
    write_deltalake(
        target.uri,
        rows,
        mode="error",
        storage_options=target.storage_options,
        commit_properties=commit_properties,
    )
    return 0


def _merge(
    con: duckdb.DuckDBPyConnection,
    table: DeltaTable,
    diff: str,
    identity: Sequence[str],
    columns: Sequence[str],
    commit_properties: CommitProperties | None,
) -> None:
    source = relation_reader(con.sql(f"SELECT {col_list([*columns, ACTION])} FROM {ident(diff)}"))
    assign = {ident(c): f"s.{ident(c)}" for c in columns}
    upsert, delete = f"s.{ident(ACTION)} = 'U'", f"s.{ident(ACTION)} = 'D'"
    predicate = " AND ".join(f"t.{ident(c)} = s.{ident(c)}" for c in identity)
    # Only rows whose content differs are rewritten: delta-rs skips the commit when no row
    # changes, so re-applying the same input leaves no new version.
    differs = " OR ".join(
        f"(t.{ident(c)} IS DISTINCT FROM s.{ident(c)})" for c in columns if c not in identity
    )
    changed = f"{upsert} AND ({differs})" if differs else "false"
    (
        table.merge(
            source,
            predicate,
            source_alias="s",
            target_alias="t",
            commit_properties=commit_properties,
        )
        .when_matched_delete(delete)
        .when_matched_update(assign, changed)
        .when_not_matched_insert(assign, upsert)
        .execute()
    )
