"""Reading one stored table version through the governed reader, for the read paths that
otherwise scan it with Arrow (`show`, `publish`): when the caller sees the table whole the
caller keeps its own Arrow scan; otherwise the engine runs the reader's SELECT (masks and
row filter as SQL) over the same pinned version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


def table_page(project: Project, reader: GovernedReader, ref: TableRef,
               dataset: pads.Dataset, limit: int, offset: int = 0) -> pa.Table:
    """Rows `offset` to `offset + limit` of `dataset` (a version of `ref`) as the caller
    may see them, never reading the table whole: the engine runs the reader's SELECT (or a
    plain one) with LIMIT and OFFSET over the table, its encrypted columns opened; when no
    row filter applies, it reads only the row groups holding the page (their row counts
    are in the Parquet footers), so a page deep into a large table costs about one row
    group."""
    columns, visible = visible_scan(dataset.schema)
    listed = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    policy, sql = reader.governed_select(ref, columns)
    if visible is None and policy.row_filter is None:
        dataset, offset = _window(dataset, offset, limit)
    cipher = open_cipher(project) if encryption_declared(project) else None
    engine = project_engine(project)
    if cipher is not None:  # encrypted columns read as text; the policy applies to it
        engine.use_decryptor(cipher)
    try:
        engine.attach_table(ref, dataset if visible is None else dataset.filter(visible))
        select = sql or f'SELECT {listed} FROM "{ref.layer}"."{ref.name}"'
        return engine.query(f"{select} LIMIT {int(limit)} OFFSET {int(offset)}")
    finally:
        engine.close()
        if cipher is not None:
            cipher.ring.close()


def _window(dataset: pads.Dataset, offset: int, limit: int) -> tuple[pads.Dataset, int]:
    """The row groups of `dataset` (in scan order) that hold rows `offset` to `offset +
    limit`, and the offset of row `offset` within them."""
    import pyarrow.dataset as pads

    if not isinstance(dataset, pads.FileSystemDataset):
        return dataset, offset
    kept: list[pads.Fragment] = []
    inside, needed = offset, offset + limit  # rows still to skip, rows still to cover
    for fragment in dataset.get_fragments():
        rows = fragment.metadata.num_rows
        if rows <= inside and not kept:
            inside, needed = inside - rows, needed - rows
            continue
        for group in fragment.split_by_row_group():
            group_rows = group.row_groups[0].num_rows
            if not kept and group_rows <= inside:
                inside, needed = inside - group_rows, needed - group_rows
                continue
            kept.append(group)
            needed -= group_rows
            if needed <= 0:
                break
        if needed <= 0:
            break
    return pads.FileSystemDataset(kept, dataset.schema, dataset.format,
                                  dataset.filesystem), inside


def governed_samples(reader: GovernedReader, history: list[dict[str, Any]]
                     ) -> list[dict[str, Any]]:
    """Quality results as `reader` lets its caller see them: failing samples hold table
    values, so a reader without a grant on `afluente.quality_results.sample` sees none
    (docs/governance.md)."""
    if reader.unrestricted:
        return history
    columns = list(history[0]) if history else ["sample"]
    policy = reader.decide(TableRef("afluente", "quality_results"), columns).policy
    if "sample" not in policy.hidden:
        return history
    return [dict(row, sample="[]") for row in history]
