"""Reading one stored table version through the governed reader, for the read paths that
otherwise scan it with Arrow (`show`, `publish`): when the caller sees the table whole the
caller keeps its own Arrow scan; otherwise the engine runs the reader's SELECT (masks and
row filter as SQL) over the same pinned version."""

from __future__ import annotations

from typing import TYPE_CHECKING

from afluente.config import Project
from afluente.engines import project_engine
from afluente.governance.column_cipher import encryption_declared, open_cipher
from afluente.governance.policies import TablePolicy
from afluente.governance.reader import GovernedReader
from afluente.model import TableRef
from afluente.transform import visible_scan

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as pads


def needs_engine(project: Project, reader: GovernedReader) -> bool:
    """Whether a read of a stored table must go through `governed_table` (masks, filters, or
    encrypted columns to open), rather than a plain Arrow scan."""
    return not reader.unrestricted or encryption_declared(project)


def policy_free_select(ref: TableRef, columns: list[str]) -> str:
    return TablePolicy(tuple(columns)).select_sql(f'"{ref.layer}"."{ref.name}"', None)


def governed_table(project: Project, reader: GovernedReader, ref: TableRef,
                   dataset: pads.Dataset, limit: int | None = None) -> pa.Table | None:
    """`dataset` (a version of `ref`) as the caller may see it, its first `limit` rows;
    None when they see it whole (scan it as before)."""
    columns, visible = visible_scan(dataset.schema)  # apply_changes: no bookkeeping rows
    sql = reader.table_sql(ref, columns)
    cipher = open_cipher(project)
    sealed = cipher is not None and any(
        dataset.schema.field(c).type == "binary" for c in cipher.encrypted(ref) if c in columns)
    if sql is None and not sealed:
        return None
    sql = sql or policy_free_select(ref, columns)
    engine = project_engine(project)
    if cipher is not None:
        engine.use_decryptor(cipher)  # encrypted columns read as text
    try:
        engine.attach_table(ref, dataset if visible is None else dataset.filter(visible))
        return engine.query(sql + (f" LIMIT {int(limit)}" if limit is not None else ""))
    finally:
        engine.close()
