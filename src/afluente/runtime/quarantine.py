"""The quarantine table beside a checked table: each rejected row once per table version.

`<layer>.<table>__quarantine` is written by one commit right after the table's own commit
(never before it: a failed build leaves both as they were). Which earlier rows the new ones
replace depends on what the build replaced in the table:

- a rebuild (a `full` model, a view, a `snapshot`, any full refresh or changed definition)
  replaces the whole quarantine: a record fixed upstream is gone from it;
- `merge` and `apply_changes` replace the rows whose key the batch carried (the record was
  sent again: fixed, it is now in the table; still bad, it is quarantined again once);
- `time_range` replaces the rows of the partitions it rewrote;
- `append` only adds the batch's rejects.

A crash between the two commits leaves the table at its new version and the quarantine at
the previous one (its `_version` column says which): that build's rejects are missing until a
later build replaces them (a rebuild always does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from afluente.engines import Engine
from afluente.model import Node, TableRef
from afluente.quality.compile import json_of, literal, quote
from afluente.runtime.quarantine_names import quarantine_ref
from afluente.sql_text import table as qualified
from afluente.storage import Warehouse

QuarantineCommit = Literal["none", "append", "replace"]
SCRATCH = "__afluente_quarantine"
REPLACE_ALL = "TRUE"
KEEP_ALL = "FALSE"


def key_sql(node: Node) -> str:
    """The SQL of a row's key as text: what a later build of the same record replaces."""
    config = node.config
    kind = config.table_kind
    if kind.quarantine_replaces == "partitions":
        unit = config.partition_by or "day"
        cast = "TIMESTAMP" if unit == "hour" else "DATE"
        assert config.time_column is not None
        return f"CAST(date_trunc('{unit}', {quote(config.time_column)}) AS {cast})"
    keys = kind.key_columns(config)
    if kind.quarantine_replaces == "keys" and keys:
        return json_of(keys)
    return "NULL"


def replaced_sql(node: Node, rebuild: bool, batch: str | None,
                 partitions: list[object] | None = None) -> str:
    """A predicate over the stored quarantine rows: those the new build replaces (`batch`:
    the relation of the rows the build read, when expectations were evaluated on it)."""
    scope = node.config.table_kind.quarantine_replaces
    if rebuild or scope == "all":
        return REPLACE_ALL
    if scope == "partitions":
        values = ", ".join(literal(str(p)) for p in partitions or ())
        return f"_key IN ({values})" if values else KEEP_ALL
    if scope == "none" or batch is None:
        return KEEP_ALL
    return f"_key IN (SELECT {key_sql(node)} FROM {batch})"


def null_key_rejects(engine: Engine, rows: pa.Table, node: Node, run_id: str,
                     version: int | None) -> str:
    """The rows a kind removed for a NULL key (`on_null_key: quarantine`), as rejects."""
    scratch = TableRef(SCRATCH, "null_keys")
    engine.attach_table(scratch, rows)
    config = node.config
    keys = config.table_kind.key_columns(config)
    reason = f"null_key: NULL in key column(s) {', '.join(keys)}"
    return (
        "SELECT CAST(['null_key'] AS VARCHAR[]) AS _rules, "
        f"CAST({literal(reason)} AS VARCHAR) AS _reason, "
        f"CAST({literal(run_id)} AS VARCHAR) AS _run_id, current_timestamp AS _quarantined_at, "
        f"{json_of(rows.schema.names)} AS _row, CAST(NULL AS VARCHAR) AS _key, "
        f"CAST({literal(version)} AS BIGINT) AS _version FROM {qualified(scratch)}"
    )


@dataclass(frozen=True)
class QuarantineWriter:
    engine: Engine
    warehouse: Warehouse
    run_id: str
    fingerprint: str

    def commit(self, node: Node, rejects: list[str], replaced: str) -> QuarantineCommit:
        """Write the rejects (queries of the same columns) beside `node`'s table in one
        commit, creating it, empty or not, the first time; return what was done. Only a
        build that replaces earlier rows rewrites the quarantine; others append to it."""
        if not rejects:
            return "none"
        rejects_sql = " UNION ALL BY NAME ".join(f"({r})" for r in rejects)
        ref = quarantine_ref(node.ref)
        if not self.warehouse.exists(ref) or replaced == REPLACE_ALL:
            self._write(ref, rejects_sql, node)
            return "replace"
        before = TableRef(SCRATCH, "before")
        self.engine.attach_table(before, self.warehouse.dataset(ref))
        if replaced != KEEP_ALL and self._count(
                f"SELECT * FROM {qualified(before)} WHERE coalesce({replaced}, FALSE)"):
            kept = f"SELECT * FROM {qualified(before)} WHERE NOT coalesce({replaced}, FALSE)"
            self._write(ref, f"{kept} UNION ALL BY NAME {rejects_sql}", node)
            return "replace"
        if not self._count(rejects_sql):
            return "none"
        stream = self.engine.run_sql(rejects_sql, node.location, node.name)
        self.warehouse.append(ref, stream.reader, run_id=self.run_id,
                              fingerprint=self.fingerprint, inputs={str(node.ref): "rejects"},
                              progress={})
        return "append"

    def _count(self, sql: str) -> int:
        return int(self.engine.query(f"SELECT count(*) AS n FROM ({sql})")["n"][0].as_py())

    def _write(self, ref: TableRef, sql: str, node: Node) -> None:
        stream = self.engine.run_sql(sql, node.location, node.name)
        self.warehouse.write(ref, stream.reader, run_id=self.run_id,
                             fingerprint=self.fingerprint, inputs={str(node.ref): "rejects"})
