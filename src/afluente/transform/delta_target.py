"""The target side of every kind: read the target into DuckDB, commit a diff in one version.

A kind computes a *diff* against the target: rows to upsert (`U`) and rows to delete (`D`),
identified by an identity (the unique key for a merge, key + validity start for SCD2). The
diff is committed by storage (`Target.upsert`, one Delta MERGE), so the write is one atomic
Delta version and a failure leaves the target at its previous version. An empty diff commits
nothing, which is what makes re-applying the same input a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from afluente.storage.commits import CommitDescription
from afluente.storage.target import ACTION, UPSERT, Target
from afluente.streams import relation_reader
from afluente.transform.sqltext import col_list, ident

__all__ = ["ACTION", "Target", "commit_diff", "register_target"]


def register_target(con: duckdb.DuckDBPyConnection, target: Target, name: str) -> bool:
    """Expose the target's latest version to DuckDB as an Arrow dataset (projection and
    filter pushdown); False when the table was never written."""
    dataset = target.dataset()
    if dataset is None:
        return False
    con.register(name, dataset)
    return True


def commit_diff(
    con: duckdb.DuckDBPyConnection,
    target: Target,
    diff: str,
    identity: Sequence[str],
    columns: Sequence[str],
    commit: CommitDescription | None,
) -> int | None:
    """Commit temp table `diff` (`columns` + ACTION) to the target; the new version or None.

    Nothing is committed when the diff is empty.
    """
    changed = con.execute(f"SELECT count(*) FROM {ident(diff)}").fetchone()
    if not changed or not changed[0]:
        return None
    if not target.exists():
        rows = con.sql(f"SELECT {col_list(columns)} FROM {ident(diff)} "
                       f"WHERE {ident(ACTION)} = '{UPSERT}'")
        return target.create(relation_reader(rows), commit)
    source = con.sql(f"SELECT {col_list([*columns, ACTION])} FROM {ident(diff)}")
    return target.upsert(relation_reader(source), identity, columns, commit)
