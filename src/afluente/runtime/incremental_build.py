"""Build one incremental model: decide how to read, run the query, write with its kind.

The read is decided here, at execution, from what the inputs really did since the model
last read them (an upstream rebuilt earlier in the same run is only known now): only the new
files of the one input that appended, or everything. The write is one Delta commit made by
the kind's algorithm in `afluente.transform` (or an append / partition replace), carrying
the run id, fingerprint and input versions like every other write. A rebuild of a table that
exists (full refresh, changed definition, `sync`) runs the kind into a scratch table first
and then replaces the table's content in one commit, so a failure leaves it untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from afluente.engines import Engine
from afluente.engines.frames import model_function
from afluente.engines.protocol import Workspace
from afluente.errors import ModelError
from afluente.model import Graph, Node, TableRef
from afluente.model.kinds import PARTITION_PREFIX, RESERVED_COLUMNS
from afluente.runtime.contracts import check_contract, column_changes, schema_change_error
from afluente.runtime.event_time import (
    as_datetime,
    bound,
    check_event_column,
    newest_recorded,
    split_batch,
)
from afluente.runtime.incremental_read import UpstreamChange, new_rows, upstream_change
from afluente.runtime.incremental_strategies import KindWrite, strategy_for, write_kind
from afluente.runtime.incremental_write import (
    KindOutcome,
    partition_column,
    replace_partitions,
    with_lookback,
    with_partition,
)
from afluente.runtime.planner import PlanStep, ReadMode, read_mode, streamed_inputs
from afluente.runtime.quality_step import QualityStep
from afluente.runtime.quarantine import (
    QuarantineWriter,
    key_sql,
    null_key_rejects,
    replaced_sql,
)
from afluente.runtime.quarantine_names import late_ref
from afluente.runtime.window_close import check_closes_at, close_windows
from afluente.sql_text import literal
from afluente.storage import CommitInfo, Warehouse, WriteResult
from afluente.storage.commits import CommitDescription
from afluente.storage.target import KEYED_FILE_BYTES, scratch_target
from afluente.streams import ResultStream
from afluente.transform import Target

Attach = Callable[[TableRef, pads.Dataset | pa.Table], None]
#: Kinds that upsert by key: a rebuild keeps their table in key-ordered files of
#: `KEYED_FILE_BYTES` (storage.target), which their MERGEs prune by key range.
KEYED_KINDS = frozenset({"merge", "apply_changes", "snapshot"})


@dataclass(frozen=True)
class Outcome:
    """What the build did: the write (None when nothing was new) and how it read."""

    written: WriteResult | None
    mode: ReadMode
    reason: str
    # a model with `event_time`: the micro-batch's watermark, late and re-sent row counts
    event_time: dict[str, object] | None = None


@dataclass
class IncrementalBuild:
    graph: Graph
    engine: Engine
    warehouse: Warehouse
    node: Node
    step: PlanStep
    run_id: str
    started_at: datetime
    inputs: dict[str, int]  # the version of each input read now
    last: CommitInfo | None
    full_refresh: bool
    attach: Attach  # attach a dataset as a table (through the visible rows of CDC tables)
    reattach: Callable[[TableRef], None]  # put back the whole table
    quality: QualityStep | None = None  # the model's expectations, checked on what is written
    # the inputs attached as their new rows only (an incremental read), until put back whole
    _partial: list[UpstreamChange] = field(default_factory=list, init=False)
    # the dimensions attached as the rows of the micro-batch's keys only, until put back
    _narrowed: list[TableRef] = field(default_factory=list, init=False)
    # event time (runtime/event_time.py): the newest event time for the commit's progress,
    # and the late rows written to `<table>__late` after the table's commit
    _progress: dict[str, object] | None = field(default=None, init=False)
    _late: pa.Table | None = field(default=None, init=False)
    _late_replaced: bool = field(default=False, init=False)  # a rebuild empties `__late`
    _sorted: dict[str, object] | None = field(default=None, init=False)

    def run(self) -> Outcome:
        rebuild, mode, reason, changed = self._decide()
        if mode is None:
            return Outcome(None, "incremental", reason)
        if mode == "incremental" and self.node.table_kind.time_partitioned:
            return Outcome(self._time_range(changed[0]), mode, reason)
        self._partial = [c for c in changed if mode == "incremental"]
        try:
            for change in self._partial:
                self.attach(change.upstream, new_rows(self.warehouse, change))
            self._narrow_dimensions()
            written = self._write(rebuild or (mode == "full" and self._full_rebuilds))
        finally:
            self._read_whole_inputs()
        return Outcome(written, mode, reason, self._sorted)

    def _read_whole_inputs(self) -> None:
        for change in self._partial:
            self.reattach(change.upstream)
        for ref in self._narrowed:
            self.reattach(ref)
        self._partial, self._narrowed = [], []

    def _narrow_dimensions(self) -> None:
        """A stream-to-table join reads, of each dimension with a key, only the rows of the
        keys in the micro-batch's new rows (all of them in a rebuild)."""
        if len(self._partial) != 1:
            return
        stream = new_rows(self.warehouse, self._partial[0])
        for name, column in self.node.config.dimension_keys.items():
            if column is None:
                continue
            ref = TableRef.parse(name)
            dimension = self.warehouse.dataset(ref, self.inputs[name])
            for where, schema in ((f"`{self._partial[0].upstream}`", stream.schema),
                                  (f"the dimension `{name}`", dimension.schema)):
                if column not in schema.names:
                    raise ModelError(
                        f"`dimensions`: the join key `{column}` of `{name}` is not a column "
                        f"of {where} (columns: {', '.join(schema.names)})",
                        location=self.node.location, table=self.node.name,
                        hint="name a column both the stream and the dimension have, or "
                        "list the dimension without a key (read whole)")
            self.attach(ref, dimension.to_table(
                filter=pc.field(column).isin(_keys_as(stream, column, dimension))))
            self._narrowed.append(ref)

    @property
    def _full_rebuilds(self) -> bool:
        """Kinds whose table is only the output of its reads: a full read rebuilds them (a
        merge that combines aggregates too: the full read's aggregates are complete)."""
        return self.node.table_kind.full_read_rebuilds or bool(self.node.config.combine)

    def _decide(self) -> tuple[bool, ReadMode | None, str, list[UpstreamChange]]:
        last = self.last
        if self.full_refresh or last is None or last.fingerprint != self.step.fingerprint:
            return True, "full", self.step.reason, []
        changes = [
            upstream_change(self.warehouse, up, _version(last.inputs.get(str(up))),
                            self.inputs[str(up)])
            for up in streamed_inputs(self.graph, self.node.ref)
        ]
        changed = [c for c in changes if not c.unchanged]
        if not changed:
            return False, None, "no new upstream data", []
        mode, reason = read_mode(self.node, changed)
        return False, mode, reason, changed

    def _write(self, rebuild: bool) -> WriteResult | None:
        ref, config = self.node.ref, self.node.config
        stream = self._run_query(checked=True)
        try:
            schema = stream.reader.schema
            check_contract(config.contracted_types, schema, self.node.location, self.node.name,
                           self.engine)
            check_closes_at(schema, self.node)
            exists = self.warehouse.exists(ref)
            if exists and not rebuild:
                rebuild = self._schema_change(schema)
                if rebuild and self._partial:  # `sync` rebuilds from all upstream rows
                    stream.reader.close()
                    self._read_whole_inputs()
                    stream = self._run_query(checked=True)
            if config.event_time:
                stream = self._sort_out(stream, fresh=rebuild or not exists)
            if rebuild and exists:
                return self._rebuild(stream)
            with self._workspace() as ws:
                outcome = write_kind(self._job(self._target(self.warehouse.uri(ref)),
                                               stream.reader, self._props(), ws, rebuild))
        except Exception:
            _raise_stream_failure(stream)
            raise
        return self._finish(outcome, rebuild)

    def _finish(self, outcome: KindOutcome, rebuild: bool,
                partitions: list[object] | None = None) -> WriteResult | None:
        written = (self._bookkeeping() if outcome.version is None
                   else WriteResult(outcome.version, outcome.rows))
        if written is not None:
            self._quarantine(written.version, outcome.quarantined, rebuild, partitions)
        self._write_late()
        self._close_windows(rebuild)
        return written

    def _sort_out(self, stream: ResultStream, fresh: bool) -> ResultStream:
        """The micro-batch's rows at or after the watermark, without re-sent ones; the late
        ones kept for `<table>__late` (`fresh`: the table is rebuilt, nothing is late)."""
        config = self.node.config
        column = config.event_time
        assert column is not None
        rows = stream.reader.read_all()
        check_event_column(rows.schema, config, self.node.location, self.node.name)
        newest = None if fresh else self._newest_accepted(column)
        split = split_batch(rows, config, newest, None if fresh else self._seen_keys)
        self._progress = split.progress(column)
        self._late, self._late_replaced = split.late, fresh
        self._sorted = {"watermark": None if split.watermark is None
                        else split.watermark.isoformat(),
                        "late_rows": split.late.num_rows, "duplicates": split.duplicates,
                        "late_data": config.late_data or "divert"}
        reader = pa.RecordBatchReader.from_batches(split.on_time.schema,
                                                   split.on_time.to_batches())
        return ResultStream(reader, stream.failure, stream.keepalive)

    def _newest_accepted(self, column: str) -> datetime | None:
        """The newest event time the table holds: from its last commit's progress, else
        read from the table (written before `event_time` was declared, or rebuilt)."""
        recorded = newest_recorded(self.last.progress if self.last else None, column)
        if not isinstance(recorded, str):  # "unknown"
            return recorded
        stored = self.warehouse.dataset(self.node.ref).to_table(columns=[column])
        return as_datetime(pc.max(stored[column]).as_py())

    def _seen_keys(self, keys: tuple[str, ...], watermark: datetime | None) -> pa.Table:
        """The stored `keys` of the rows at or after `watermark` (None: of every row)."""
        column = self.node.config.event_time
        assert column is not None
        dataset = self.warehouse.dataset(self.node.ref)
        kept = (None if watermark is None
                else pc.field(column) >= bound(watermark, dataset.schema.field(column).type))
        return dataset.to_table(columns=list(keys), filter=kept)

    def _write_late(self) -> None:
        """Right after the table's commit: the micro-batch's late rows, in one commit of
        `<table>__late`; a rebuild (which read every row, none late) empties it."""
        late, self._late = self._late, None
        ref = late_ref(self.node.ref)
        emptied = self._late_replaced and self.warehouse.exists(ref)
        if late is None or not (late.num_rows or emptied):
            return
        self.warehouse.append(
            ref, pa.RecordBatchReader.from_batches(late.schema, late.to_batches()),
            run_id=self.run_id, fingerprint=self.step.fingerprint,
            inputs={str(self.node.ref): "late"}, progress={}, overwrite=self._late_replaced,
        )

    def _close_windows(self, rebuild: bool) -> None:
        """`closes_at`: the rows the stream's watermark closed, to `<table>__final`."""
        close_windows(self.graph, self.warehouse, self.node, run_id=self.run_id,
                      fingerprint=self.step.fingerprint, rebuild=rebuild)

    def _time_range(self, change: UpstreamChange) -> WriteResult | None:
        """Rebuild the partitions the new upstream rows fall in (plus `lookback` before the
        newest), from all upstream data."""
        self.attach(change.upstream, new_rows(self.warehouse, change))
        try:
            stream = self._run_query()
            try:
                with self._workspace() as ws:
                    fresh = with_partition(ws, self.node, stream.reader)
            except Exception:
                _raise_stream_failure(stream)
                raise
        finally:
            self.reattach(change.upstream)
        column = partition_column(self.node)
        affected = sorted(set(fresh[column].to_pylist()) - {None})
        if not affected:
            return self._bookkeeping()
        wanted = with_lookback(affected, self.node.config.partition_by or "day",
                               self.node.config.lookback or 0)
        values = ", ".join(literal(str(p)) for p in wanted)
        stream = self._run_query(checked=True, where=f"{key_sql(self.node)} IN ({values})")
        try:
            check_contract(self.node.config.contracted_types, stream.reader.schema,
                           self.node.location, self.node.name, self.engine)
            if self._schema_change(stream.reader.schema):
                if self.quality is None:
                    return self._rebuild(stream)
                stream.reader.close()  # it holds only the checked rows of `wanted`
                return self._rebuild(self._run_query(checked=True))
            with self._workspace() as ws:
                outcome = replace_partitions(
                    ws, self._target(self.warehouse.uri(self.node.ref)), self.node,
                    stream.reader, self._props(), wanted,
                )
        except Exception:
            _raise_stream_failure(stream)
            raise
        return self._finish(outcome, rebuild=False, partitions=wanted)

    def _run_query(self, checked: bool = False, where: str | None = None) -> ResultStream:
        """The model's output; `checked`: the rows its expectations keep (of those matching
        `where`), after they were evaluated and recorded."""
        node = self.node
        if checked and self.quality is not None:
            node = self.quality.apply(node, where)
        if node.language == "python":
            assert node.function is not None
            return self.engine.run_python(
                model_function(node), node.upstream, node.keywords, node.location, node.name
            )
        assert node.sql is not None
        return self.engine.run_sql(node.sql, node.location, node.name)

    def _schema_change(self, schema: pa.Schema) -> bool:
        """Apply `on_schema_change`; True when the table must be rebuilt (`sync`)."""
        stored = self.warehouse.schema(self.node.ref)
        assert stored is not None
        skip = {*RESERVED_COLUMNS, *(self.node.config.except_columns or ())}
        table_columns = [c for c in stored.names if c not in skip and not _partition(c)]
        output = [c for c in schema.names if c not in skip]
        new, missing = column_changes(table_columns, output)
        if not new and not missing:
            return False
        policy = self.node.config.schema_change
        if policy == "fail":
            raise schema_change_error(new, missing, self.node.location, self.node.name)
        if policy == "sync":
            return True
        if new and not strategy_for(self.node).adds_new_columns:
            fields = [pa.field(c, schema.field(c).type) for c in new]
            self._target(self.warehouse.uri(self.node.ref)).add_columns(fields)
        return False

    def _rebuild(self, stream: ResultStream) -> WriteResult:
        """Run the kind into a scratch table, then replace the table with it (one commit)."""
        sealing = self.warehouse.sealing(self.node.ref)
        with scratch_target(self.node.name, sealing) as scratch:
            with self._workspace() as ws:
                outcome = write_kind(self._job(scratch, stream.reader, None, ws, True))
            # as stored: sealed for this table already
            built = scratch.stored() if outcome.version is not None else None
            if built is None:
                data = pa.RecordBatchReader.from_batches(
                    stream.reader.schema, iter(())
                )
            else:
                data = built.scanner().to_reader()
            keyed = self.node.table_kind.name in KEYED_KINDS  # written ordered by key
            written = self.warehouse.write(
                self.node.ref, data, run_id=self.run_id, fingerprint=self.step.fingerprint,
                inputs=dict(self.inputs), file_bytes=KEYED_FILE_BYTES if keyed else None,
                sealed=built is not None,
            )
            self._quarantine(written.version, outcome.quarantined, rebuild=True)
            self._write_late()
            self._close_windows(True)
            return written

    def _bookkeeping(self) -> WriteResult | None:
        """Nothing changed in the table, but the inputs moved on: record the versions read
        in an empty commit so the next plan knows the model is up to date."""
        version = self._target(self.warehouse.uri(self.node.ref)).record(self._props())
        return None if version is None else WriteResult(version, 0)

    def _quarantine(self, version: int, null_keys: pa.Table | None, rebuild: bool,
                    partitions: list[object] | None = None) -> None:
        """Right after the table's commit: what expectations and NULL keys rejected, in one
        commit of `<table>__quarantine` (docs/quality.md)."""
        rejects = self.quality.rejects(self.node, version) if self.quality else []
        if null_keys is not None and null_keys.num_rows:
            rejects.append(null_key_rejects(self.engine, null_keys, self.node, self.run_id,
                                            version))
        elif self.node.config.on_null_key == "quarantine" and not rejects:
            rejects.append(null_key_rejects(self.engine, _empty(self.node), self.node,
                                            self.run_id, version))
        batch = self.quality.batch if self.quality else None
        replaced = replaced_sql(self.node, rebuild, batch, partitions)
        QuarantineWriter(self.engine, self.warehouse, self.run_id,
                         self.step.fingerprint).commit(self.node, rejects, replaced)

    @contextmanager
    def _workspace(self) -> Iterator[Workspace]:
        """The engine's workspace for one kind step, closed (its scratch tables dropped)
        right after."""
        with closing(self.engine.workspace()) as ws:
            yield ws

    def _job(self, target: Target, reader: pa.RecordBatchReader,
             commit: CommitDescription | None, ws: Workspace, rebuild: bool) -> KindWrite:
        return KindWrite(target, self.node, reader, commit, ws, self.started_at, rebuild)

    def _target(self, uri: str) -> Target:
        ours = uri == self.warehouse.uri(self.node.ref)  # else a local scratch directory
        return Target(uri, self.warehouse.storage_options if ours else None, self.node.name,
                      self.warehouse.private_of(self.node.ref),
                      self.warehouse.sealing(self.node.ref))

    def _props(self) -> CommitDescription:
        return CommitDescription(self.run_id, self.node.name, self.step.fingerprint,
                                 dict(self.inputs), self._progress)


def _keys_as(stream: pads.Dataset, column: str, dimension: pads.Dataset) -> pa.Array:
    """The distinct keys of the stream's new rows, in the dimension's key type."""
    keys = pc.unique(stream.to_table(columns=[column])[column].combine_chunks())
    kind = dimension.schema.field(column).type
    try:
        return keys.cast(kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ModelError(
            f"`dimensions`: the keys `{column}` of the new rows do not convert to the "
            f"dimension's {kind} ({exc})",
            hint="make the key the same type on both sides, or list the dimension "
            "without a key (read whole)") from None


def _version(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _partition(column: str) -> bool:
    return column.startswith(PARTITION_PREFIX)


def _raise_stream_failure(stream: ResultStream) -> None:
    """The query's own error explains a failed write better than the writer's."""
    if stream.failure:
        failure = stream.failure[0]
        if isinstance(failure, Exception):
            raise failure from None


def _empty(node: Node) -> pa.Table:
    """No rows, with the key columns: the NULL-key rejects of a batch that had none."""
    config = node.config
    keys = node.table_kind.key_columns(config)
    return pa.table({k: pa.array([], pa.string()) for k in keys})
