"""`afluente diff TABLE --env NAME`: an environment's table against its base's — row
counts, schema differences, and by the model's unique key: keys on one side only, and per
column how many matched rows differ. Counts only: no value is shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from afluente.config import Project
from afluente.errors import DataEnvironmentError
from afluente.model import TableRef, load_graph
from afluente.runtime.environments import env_store
from afluente.storage import Warehouse


@dataclass(frozen=True)
class TableDiff:
    table: str
    environment: str
    base: str
    rows_base: int
    rows_env: int
    added_columns: dict[str, str] = field(default_factory=dict)
    removed_columns: dict[str, str] = field(default_factory=dict)
    retyped_columns: dict[str, tuple[str, str]] = field(default_factory=dict)
    key: tuple[str, ...] | None = None
    only_base: int | None = None
    only_env: int | None = None
    matched: int | None = None
    changed: dict[str, int] = field(default_factory=dict)  # column → matched rows differing

    def as_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def diff_table(project: Project, ref: TableRef, name: str) -> TableDiff:
    """Compare `ref` in environment `name` with its base (the governed reader decides
    first that the caller may read both)."""
    from afluente.governance.reader import GovernedReader

    record = env_store(project).load(name)
    mine = Warehouse(project.warehouse_uri, environment=name)
    base = Warehouse(project.warehouse_uri, environment=record.base)
    if not mine.exists(ref) or str(ref) not in record.own:
        raise DataEnvironmentError(
            f"`{ref}` is not built in environment `{name}`" + (
                "" if str(ref) in record.own else " (its plan reads it from the base)"),
            table=str(ref), hint=f"`afluente plan --env {name}` lists what it builds; "
            f"`afluente run --env {name}` builds it")
    if not base.exists(ref):
        raise DataEnvironmentError(
            f"`{ref}` is new in `{name}`: `{record.base}` has no such table to compare with",
            table=str(ref), hint=f"`afluente show {ref}` with AFLUENTE_DATA_ENV={name} "
            "shows its rows")
    new, old = mine.open(ref), base.open(ref)
    reader = GovernedReader.open(project)
    new_schema = pa.schema(new.schema().to_arrow())
    old_schema = pa.schema(old.schema().to_arrow())
    reader.decide(ref, list(dict.fromkeys([*old_schema.names, *new_schema.names])))
    after = mine.readable(ref, new).to_table()
    before = base.readable(ref, old).to_table()
    key = load_graph(project)[ref].config.unique_key
    result = TableDiff(str(ref), name, record.base, before.num_rows, after.num_rows,
                       **_schema_diff(old_schema, new_schema))
    if not key or not all(k in before.column_names and k in after.column_names for k in key):
        return result
    return TableDiff(**{**result.__dict__, **_key_diff(before, after, tuple(key))})


def _schema_diff(old: pa.Schema, new: pa.Schema) -> dict[str, Any]:
    return {
        "added_columns": {f.name: str(f.type) for f in new if f.name not in old.names},
        "removed_columns": {f.name: str(f.type) for f in old if f.name not in new.names},
        "retyped_columns": {f.name: (str(old.field(f.name).type), str(f.type)) for f in new
                            if f.name in old.names and old.field(f.name).type != f.type},
    }


def _key_diff(before: pa.Table, after: pa.Table, key: tuple[str, ...]) -> dict[str, Any]:
    common = [c for c in after.column_names if c in before.column_names and c not in key]
    left = before.select([*key, *common]).rename_columns(
        [*key, *(f"{c}__base" for c in common)])
    right = after.select([*key, *common]).rename_columns(
        [*key, *(f"{c}__env" for c in common)])
    right = right.append_column("__in_env", pa.array([True] * right.num_rows))
    left = left.append_column("__in_base", pa.array([True] * left.num_rows))
    joined = left.join(right, list(key), join_type="full outer")
    in_base = pc.fill_null(joined["__in_base"], False)
    in_env = pc.fill_null(joined["__in_env"], False)
    both = joined.filter(pc.and_(in_base, in_env))
    changed = {}
    for column in common:
        old, new = both[f"{column}__base"], both[f"{column}__env"]
        if old.type != new.type:
            changed[column] = both.num_rows
            continue
        same = pc.or_kleene(pc.equal(old, new), pc.and_(pc.is_null(old), pc.is_null(new)))
        differing = both.num_rows - pc.sum(pc.fill_null(same, False)).as_py() if \
            both.num_rows else 0
        if differing:
            changed[column] = int(differing)
    return {"key": key, "matched": both.num_rows,
            "only_base": int(pc.sum(pc.and_(in_base, pc.invert(in_env))).as_py() or 0),
            "only_env": int(pc.sum(pc.and_(in_env, pc.invert(in_base))).as_py() or 0),
            "changed": changed}
