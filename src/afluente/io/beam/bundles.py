"""Committing one Beam bundle (a group of rows of one window and shard) to an afluente
table exactly once, and recording it as a run of afluente.

The bundle's idempotency key is a run id derived from the pipeline id, the table, the
shard, the window and the pane (`bundle_run_id`): the same group retried gets the same run
id. Its commit carries the Delta app transaction `afluente:<run id>` (storage's
`commit_transactions`), so a retry after the commit finds it (`Warehouse.written_by`) and
writes nothing.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from afluente.config import Project, load_project
from afluente.errors import AfluenteError, ConfigError, StorageError
from afluente.governance.reader import require_modify
from afluente.io.beam.tables import resolve
from afluente.model import TableRef, load_graph
from afluente.runtime.contracts import check_contract
from afluente.storage import StagedFiles, Warehouse
from afluente.storage.commits import CommitDescription
from afluente.storage.target import ACTION as ACTION_COLUMN
from afluente.storage.target import UPSERT, Target


class BundleSchemaError(StorageError):
    """A bundle's rows do not fit the table (a column it lacks, a value of another type)."""


@dataclass(frozen=True)
class WritePlan:
    """Where a `WriteToAfluente` writes and how (picklable: workers rebuild the rest)."""

    project: str
    table: str
    pipeline: str
    keys: tuple[str, ...] = ()  # empty: append; else merge by these columns
    inputs: Mapping[str, int] = field(default_factory=dict)  # tables read → pinned version
    create: bool = False  # the table may be new (neither declared nor stored)


PIPELINE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def check_pipeline_id(pipeline: str) -> str:
    """A pipeline id fit for run ids and folder names (letters, digits, `_`, `.`, `-`)."""
    if not PIPELINE_ID.fullmatch(pipeline):
        raise ConfigError(
            f"pipeline id {pipeline!r} cannot name afluente runs",
            hint="use letters, digits, '_', '.' and '-' (at most 100), e.g. "
            "'orders-daily-2026-12-03'")
    return pipeline


def bundle_run_id(pipeline: str, table: str, shard: int, window: str, pane: int) -> str:
    """The idempotency key of one group of rows: stable across retries of that group."""
    digest = hashlib.sha256(f"{pipeline}\0{table}\0{shard}\0{window}\0{pane}".encode())
    return f"beam-{pipeline}-{digest.hexdigest()[:16]}"


class BundleWriter:
    """Commits bundles of one `WritePlan` (one instance per worker)."""

    def __init__(self, plan: WritePlan) -> None:
        self.plan = plan
        check_pipeline_id(plan.pipeline)
        self.project: Project = load_project(plan.project)
        self.ref, self.node = resolve(self.project, load_graph(self.project), plan.table,
                                      writing=True, create=plan.create)
        # under governance the worker's principal needs MODIFY, as a `run` would
        require_modify(self.project, [self.ref])
        self.warehouse = Warehouse(self.project.warehouse_uri)

    def commit(self, rows: Sequence[Mapping[str, Any]], run_id: str,
               detail: Mapping[str, Any]) -> dict[str, Any]:
        """Write `rows` in one Delta commit (none when the run id already committed);
        `detail` (window, shard, pane) goes to the run's record."""
        done = self.warehouse.written_by(self.ref, run_id)
        if done is not None:
            _close_recorded(self.project, run_id, str(self.ref), done.version, done.rows)
            return {"run_id": run_id, "version": done.version, "rows": done.rows,
                    "already_written": True}
        data = self.arrow(rows)
        with _RunRecord(self.project, run_id, self.ref, self.plan, detail) as record:
            version = self._write(data, run_id)
            record.written(data.num_rows, version)
        return {"run_id": run_id, "version": version, "rows": data.num_rows,
                "already_written": False}

    def arrow(self, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
        """The rows as Arrow, in the table's schema when it exists; checked against the
        model's declared contract. Errors name the column and the value."""
        schema = self.warehouse.schema(self.ref)
        if schema is not None and self.plan.keys:  # a MERGE sets only the columns it has
            present = {k for row in rows for k in row}
            data = to_arrow(rows, schema, str(self.ref), only=present)
        else:
            data = to_arrow(rows, schema, str(self.ref))
        node = self.node
        if node is not None and node.config.contracted_types:
            check_contract(node.config.contracted_types, data.schema, node.location, node.name)
        if self.plan.keys:
            missing = [k for k in self.plan.keys if k not in data.column_names]
            if missing:
                raise BundleSchemaError(
                    f"merge key column {', '.join(missing)} is not in the rows written to "
                    f"`{self.ref}`", table=str(self.ref),
                    hint="name key columns the rows have; the table keeps its version")
        return data

    def _write(self, data: pa.Table, run_id: str) -> int:
        inputs: dict[str, object] = dict(self.plan.inputs)
        if self.plan.keys:
            return self._merge(data, run_id, inputs)
        if not self.warehouse.is_local:
            commit = CommitDescription(run_id, str(self.ref), inputs=inputs)
            return self._target().append(data, commit)
        folder = self.warehouse.staging_dir(self.ref, run_id)
        file = folder / f"part-{uuid.uuid4().hex}.parquet"
        pq.write_table(data, file)
        staged = StagedFiles(folder, (file,), data.num_rows)
        return self.warehouse.commit_staged(self.ref, staged, run_id=run_id, fingerprint="",
                                            inputs=inputs, mode="append").version

    def _merge(self, data: pa.Table, run_id: str, inputs: dict[str, object]) -> int:
        """Upsert by the keys (the bundle's last row of a key wins) in one MERGE commit."""
        commit = CommitDescription(run_id, str(self.ref), inputs=inputs)
        target = self._target()
        latest = _last_per_key(data, self.plan.keys)
        if not target.exists():
            return target.create(pa.RecordBatchReader.from_batches(
                latest.schema, latest.to_batches()), commit)
        diff = latest.append_column(ACTION_COLUMN, pa.array([UPSERT] * latest.num_rows))
        reader = pa.RecordBatchReader.from_batches(diff.schema, diff.to_batches())
        version = target.upsert(reader, self.plan.keys, latest.column_names, commit)
        if version is None:  # no row changed: delta-rs committed nothing
            version = target.record(commit)
        assert version is not None
        return version

    def _target(self) -> Target:
        return Target(self.warehouse.uri(self.ref), self.warehouse.storage_options,
                      str(self.ref), self.warehouse.private_of(self.ref))


def to_arrow(rows: Sequence[Mapping[str, Any]], schema: pa.Schema | None,
             table: str, only: set[str] | None = None) -> pa.Table:
    """Rows (dicts) as an Arrow table of `schema` (inferred when None; `only`: just these
    of its columns). A key the schema lacks, or a value its column's type cannot hold, is
    refused naming both."""
    present: set[str] = set().union(*rows)
    if schema is None:  # a new table: the first row's column order, then any others
        first = list(rows[0]) if rows else []
        return _inferred(rows, first + sorted(present - set(first)), table)
    unknown = sorted(present - set(schema.names))
    if unknown:
        raise BundleSchemaError(
            f"column `{unknown[0]}` is not a column of `{table}`", table=table,
            hint=f"its columns: {', '.join(schema.names)}; write only those (rename or drop "
            "the column in the pipeline); the table keeps its previous version")
    if only is not None:
        schema = pa.schema([f for f in schema if f.name in only])
    try:
        return pa.Table.from_pylist(list(rows), schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError):
        raise _misfit(rows, schema, table) from None


def _misfit(rows: Sequence[Mapping[str, Any]], schema: pa.Schema,
            table: str) -> BundleSchemaError:
    """The error for rows that do not fit `schema`: the first column and value that fail."""
    for column in schema:
        values = [row.get(column.name) for row in rows]
        try:
            pa.array(values, type=column.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError) as exc:
            bad = _first_bad(values, column.type)
            return BundleSchemaError(
                f"column `{column.name}` of `{table}` is {column.type}, and the pipeline "
                f"wrote {bad!r} ({type(bad).__name__}) into it: {exc}", table=table,
                hint="convert the value in the pipeline before WriteToAfluente; the table "
                "keeps its previous version")
    return BundleSchemaError(f"the rows do not fit the columns of `{table}`", table=table,
                             hint=f"its columns: {', '.join(schema.names)}")


def _inferred(rows: Sequence[Mapping[str, Any]], names: list[str], table: str) -> pa.Table:
    arrays = []
    for name in names:
        values = [row.get(name) for row in rows]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise BundleSchemaError(
                f"column `{name}` written to `{table}` mixes value types: {exc}", table=table,
                hint="give the column one type in the pipeline") from None
    return pa.Table.from_arrays(arrays, names=names)


def _first_bad(values: Sequence[Any], type_: pa.DataType) -> Any:
    for value in values:
        try:
            pa.array([value], type=type_)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError):
            return value
    return None


def _last_per_key(data: pa.Table, keys: Sequence[str]) -> pa.Table:
    """One row per key: the last one the bundle holds."""
    last: dict[tuple[Any, ...], int] = {}
    for index, key in enumerate(zip(*(data.column(k).to_pylist() for k in keys), strict=True)):
        last[key] = index
    return data.take(sorted(last.values()))


def _close_recorded(project: Project, run_id: str, model: str, version: int,
                    rows: int) -> None:
    """A group retried after its commit: the run the first attempt left `running` (it died
    between the commit and the record) is marked a success with what it wrote."""
    from afluente.state import StateStore

    with StateStore.open(project.state_url) as state:
        try:
            run = state.get_run(run_id)
        except AfluenteError:  # never recorded (e.g. written by another afluente)
            return
        if run.status == "running":
            state.finish_model_run(run_id, model, "success", rows_written=rows,
                                   version_written=version)
            state.finish_run(run_id, "success")


class _RunRecord:
    """A bundle's commit as a run of afluente in the state store (`afluente runs`, events):
    started before the commit, finished after it (failed with the error otherwise)."""

    def __init__(self, project: Project, run_id: str, ref: TableRef, plan: WritePlan,
                 detail: Mapping[str, Any]) -> None:
        from afluente.state import StateStore

        self.state = StateStore.open(project.state_url)
        self.run_id, self.model = run_id, str(ref)
        self.plan = plan
        args = {"beam": {"pipeline": plan.pipeline, "table": str(ref), **detail,
                         "mode": "merge" if plan.keys else "append"}}
        self.state.start_run(run_id, project.config.name, str(ref), args, resume=True)
        self.state.start_model_run(run_id, self.model, "")

    def __enter__(self) -> _RunRecord:
        return self

    def written(self, rows: int, version: int) -> None:
        from afluente.state import Event

        self.state.finish_model_run(self.run_id, self.model, "success", rows_written=rows,
                                    versions_read=dict(self.plan.inputs),
                                    version_written=version)
        self.state.emit(Event(type="table_committed", run_id=self.run_id, model=self.model,
                              payload={"rows": rows, "version": version,
                                       "beam": {"pipeline": self.plan.pipeline}}))
        self.state.finish_run(self.run_id, "success")

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        try:
            if exc is not None:
                error = exc.message if isinstance(exc, AfluenteError) else str(exc)
                self.state.finish_model_run(self.run_id, self.model, "failed", error=error)
                self.state.finish_run(self.run_id, "failed", error=error)
        finally:
            self.state.close()
