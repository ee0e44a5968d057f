"""Keep string and binary columns stored as plain Arrow `string`/`binary`.

delta-rs's MERGE (used by the `merge`, `apply_changes` and `snapshot` kinds) writes the files
it rewrites with Arrow *view* types (`string_view`) recorded in their Parquet metadata, so
pyarrow reads those files as views. pyarrow's compute kernels do not handle views yet: a
filter DuckDB pushes into the scan (`status <> 'cancelled'`, a join's key filter) then fails
with "no kernel matching input types (string, string_view)" in every reader of the table.

So after such a commit the files it added that hold view types are rewritten with plain
types, in one more commit that changes no data (`dataChange: false`, like OPTIMIZE) and
carries the same commit properties: a table never exposes view-typed files to readers.
Local tables only (the rewrite reads the commit's JSON for the files' exact statistics).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable
from deltalake.transaction import AddAction, RemoveAction

from afluente.storage.damage import LOG


def plain_type(kind: pa.DataType) -> pa.DataType:
    """`kind` with every view type (nested ones too) replaced by its plain type."""
    if pa.types.is_string_view(kind):
        return pa.string()
    if pa.types.is_binary_view(kind):
        return pa.binary()
    if pa.types.is_struct(kind):
        return pa.struct([f.with_type(plain_type(f.type)) for f in kind.fields])
    if pa.types.is_large_list(kind) or pa.types.is_large_list_view(kind):
        return pa.large_list(kind.value_field.with_type(plain_type(kind.value_type)))
    if pa.types.is_list(kind) or pa.types.is_list_view(kind):
        return pa.list_(kind.value_field.with_type(plain_type(kind.value_type)))
    return kind


def plain_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([f.with_type(plain_type(f.type)) for f in schema],
                     metadata=schema.metadata)


def rewrite_view_files(uri: str, props: CommitProperties | None) -> int | None:
    """Rewrite the view-typed files the table's latest commit added; the new version, or
    None when there were none."""
    if "://" in uri and not uri.startswith("file://"):
        return None
    root = Path(uri.removeprefix("file://"))
    table = DeltaTable(str(root))
    added = _added_by(root, table.version())
    actions: list[AddAction | RemoveAction] = []
    for path, add in added.items():
        if plain_schema(pq.read_schema(root / path)) != pq.read_schema(root / path):
            actions.extend(_rewrite(root, path, add))
    if not actions:
        return None
    table.create_write_transaction(actions, mode="append", schema=table.schema(),
                                   commit_properties=props)
    table.update_incremental()
    return table.version()


def _added_by(root: Path, version: int) -> dict[str, dict[str, Any]]:
    """The `add` actions of one commit, by (unescaped) file path."""
    commit = root / LOG / f"{version:020d}.json"
    found: dict[str, dict[str, Any]] = {}
    for line in commit.read_text(encoding="utf-8").splitlines():
        action = json.loads(line) if line.strip() else {}
        if "add" in action:
            found[unquote(action["add"]["path"])] = action["add"]
    return found


def _rewrite(root: Path, path: str, add: dict[str, Any]) -> list[AddAction | RemoveAction]:
    """Write the file again with plain types next to it; the add and remove actions."""
    source = root / path
    data = pq.read_table(source)
    new = source.with_name(f"part-{uuid.uuid4().hex}.plain.parquet")
    pq.write_table(data.cast(plain_schema(data.schema)), new)
    stat = new.stat()
    partitions = add.get("partitionValues") or {}
    relative = os.path.relpath(new, root)
    return [
        AddAction(relative, stat.st_size, partitions, int(stat.st_mtime * 1000), False,
                  add.get("stats") or json.dumps({"numRecords": data.num_rows})),
        RemoveAction(path, False, int(time.time() * 1000), int(add["size"]), partitions),
    ]
