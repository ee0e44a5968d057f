"""Build one model of a plan on one engine: ingest, transform, check, commit, record.

A :class:`ModelBuilder` belongs to one worker of the executor and owns that worker's engine
(and what is attached to it); the versions committed during the run are shared by every
worker. A failed attempt is returned, not recorded: the executor decides whether to retry.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
import pyarrow.dataset as pads

from afluente.config import Project
from afluente.engines import Capability, Engine
from afluente.engines.frames import model_function
from afluente.errors import AfluenteError, AuditError, EngineError, ModelError
from afluente.governance.audit import append_audit
from afluente.model import Graph, Node, TableRef
from afluente.runtime.contracts import check_contract
from afluente.runtime.event_time import check_feature_columns
from afluente.runtime.incremental_build import IncrementalBuild
from afluente.runtime.incremental_views import attach_stored
from afluente.runtime.ingest import IngestRequest, ingest
from afluente.runtime.planner import Plan, PlanStep, materialized_inputs
from afluente.runtime.point_in_time_check import check_point_in_time
from afluente.runtime.quality_accounting import ACCOUNTED, Holding, ReadScope, account
from afluente.runtime.quality_step import QualityStep, QualityTally, checked_view_sql
from afluente.runtime.quarantine_names import quarantine_ref
from afluente.runtime.reporter import Reporter
from afluente.runtime.results import ModelResult
from afluente.runtime.transient import as_afluente_error
from afluente.state import Event, EventLevel, StateStore
from afluente.storage import StagedFiles, Warehouse, WriteResult
from afluente.streams import ResultStream

log = logging.getLogger("afluente.run")


@dataclass
class ModelBuilder:
    project: Project
    graph: Graph
    plan: Plan
    engine: Engine
    warehouse: Warehouse
    state: StateStore
    reporter: Reporter
    run_id: str
    started_at: datetime
    versions: dict[TableRef, int]  # shared by every worker: what this run committed
    reasons: dict[TableRef, str]  # shared: how incremental ones read
    attached: dict[TableRef, int | None] = field(default_factory=dict)  # on this engine
    tallies: dict[TableRef, QualityTally | None] = field(default_factory=dict)
    read_modes: dict[TableRef, str] = field(default_factory=dict)  # incremental: full or not

    def skip(self, step: PlanStep, reason: str) -> ModelResult:
        result = ModelResult(step.ref, "skipped", reason)
        self.state.finish_model_run(self.run_id, step.node.name, "skipped", error=reason)
        self._event("model_skipped", step.node.name, "warning", {"reason": reason})
        self.reporter.model_finished(result)
        return result

    def up_to_date(self, step: PlanStep, record: bool = True) -> ModelResult:
        """The result of a model the plan found up to date; `record=False`: the caller
        records it in the state store (the executor batches them)."""
        seen = self.plan.observations[step.ref]
        rows = seen.rows if seen.rows is not None else self._visible_rows(step.node, seen.version)
        result = ModelResult(step.ref, "up_to_date", step.reason, version=seen.version,
                             table_rows=rows)
        if record:
            self.state.finish_model_run(self.run_id, step.node.name, "up_to_date")
        self.reporter.model_finished(result)
        return result

    def attempt(self, step: PlanStep, attempt: int = 1) -> ModelResult:
        """Build `step` once. Success is recorded here; a failure is returned for the
        executor to retry or :meth:`fail`."""
        node = step.node
        self.state.start_model_run(self.run_id, node.name, step.fingerprint)
        self._event("model_started", node.name, "info",
                    {"reason": step.reason, "attempt": attempt})
        if attempt == 1:
            self.reporter.model_started(step)
        started = time.monotonic()
        try:
            self._face_damage(step, attempt)
            if node.language == "source":
                read: dict[str, int] = {}
                written = self._ingest(node, step)
                if written is None:
                    return self.nothing_new(step, time.monotonic() - started, attempt=attempt)
            else:
                read = self._attach_inputs(node)
                if self._inputs_unchanged(step, read):
                    return self.nothing_new(step, time.monotonic() - started,
                                             "its inputs wrote nothing new in this run", attempt)
                written = self._materialize(node, step, read)
                if written is None and (node.config.incremental
                                        or node.table_kind.build == "ml"):
                    reason = self.reasons.get(node.ref, "no new upstream data")
                    return self.nothing_new(step, time.monotonic() - started, reason, attempt)
        except Exception as exc:
            error = as_afluente_error(exc, node)
            error.run_id = self.run_id
            return ModelResult(step.ref, "failed", error.render(), time.monotonic() - started,
                               error=error, attempts=attempt)
        duration = time.monotonic() - started
        result = ModelResult(
            node.ref,
            "success",
            self.reasons.get(node.ref, step.reason),
            duration_s=duration,
            rows=written.rows if written else None,
            version=written.version if written else None,
            versions_read=read,
            attempts=attempt,
            table_rows=self._table_rows(node, written),
            quality=self.tallies.get(node.ref),
        )
        self.state.finish_model_run(
            self.run_id,
            node.name,
            "success",
            rows_written=result.rows,
            versions_read=read,
            version_written=result.version,
            attempts=attempt,
        )
        self._event("model_finished", node.name, "info", _result_payload(result))
        if written is not None and not written.already_written:
            self._audit_write(node.name, written)
        log.info("built %s", node.name, extra={"run_id": self.run_id, "model": node.name})
        self.reporter.model_finished(result)
        return result

    def _audit_write(self, model: str, written: WriteResult) -> None:
        """The commit in the audit log; a damaged log is reported, the run goes on."""
        try:
            append_audit(self.project, "write", model, {
                "run_id": self.run_id, "version": written.version, "rows": written.rows})
        except (AuditError, OSError) as exc:
            log.error("audit log not written for %s: %s", model, exc,
                      extra={"run_id": self.run_id, "model": model})

    def _inputs_unchanged(self, step: PlanStep, read: dict[str, int]) -> bool:
        """A full model planned because an upstream table was in the run, which then had
        nothing new (a micro-batch with no messages): it was built from these very input
        versions, by this definition, so a rebuild would write the same rows again."""
        node, seen = step.node, self.plan.observations[step.ref]
        if (not node.materialized or node.config.incremental or self.plan.full_refresh
                or seen.damage is not None or seen.last is None):
            return False
        return seen.last.fingerprint == step.fingerprint and seen.last.inputs == read

    def nothing_new(
        self, step: PlanStep, duration: float, reason: str = "no new data in the source",
        attempt: int = 1,
    ) -> ModelResult:
        version = self.plan.observations[step.ref].version
        result = ModelResult(step.ref, "up_to_date", reason, duration, version=version,
                             attempts=attempt, table_rows=self._visible_rows(step.node, version),
                             quality=self.tallies.get(step.ref))
        self.state.finish_model_run(self.run_id, step.node.name, "up_to_date", attempts=attempt)
        self._event("model_finished", step.node.name, "info",
                    {"rows": 0, "table_rows": result.table_rows, "new_data": False})
        self.reporter.model_finished(result)
        return result

    def fail(self, step: PlanStep, result: ModelResult) -> ModelResult:
        """Record the final failure of `step` (after its last attempt)."""
        self.state.finish_model_run(self.run_id, step.node.name, "failed", error=result.reason,
                                    attempts=result.attempts)
        self._event("model_failed", step.node.name, "error",
                    {"error": result.reason, "attempts": result.attempts})
        self.reporter.model_finished(result)
        return result

    def _materialize(self, node: Node, step: PlanStep, read: dict[str, int]) -> WriteResult | None:
        replayed = self.warehouse.written_by(node.ref, self.run_id)
        if replayed is not None:
            self.versions[node.ref] = replayed.version
            return replayed
        if not node.config.expectations:
            return self._build(node, step, read, None)
        quality = QualityStep(self.engine, self.warehouse, self.state, self.run_id,
                              step.fingerprint)
        before = Holding(0, 0)  # what a batch of new rows adds to (incremental kinds only)
        if node.table_kind.build == "incremental" and not self.plan.full_refresh:
            before = self._holding(node, self.plan.observations[node.ref].version)
        try:  # checked before anything is committed; the kept rows stream from the engine
            written = self._build(node, step, read, quality)
        finally:
            quality.release()
            self.tallies[node.ref] = quality.tally
        if quality.tally is not None and node.materialized:
            self._account(node, quality.tally, before, written)
        return written

    def _account(self, node: Node, tally: QualityTally, before: Holding,
                 written: WriteResult | None) -> None:
        """Record where the rows read went, totalled since the last full read
        (afluente.runtime.quality_accounting)."""
        kind = node.table_kind
        mode = self.read_modes.get(node.ref, "full") if kind.build == "incremental" else "full"
        scope: ReadScope = ("all" if mode == "full" else
                            "partitions" if kind.time_partitioned else "new")
        version = written.version if written else self.warehouse.version(node.ref)
        previous = self.state.last_event(ACCOUNTED, node.name)
        payload = account(previous.payload if previous else None, tally, scope, before,
                          self._holding(node, version))
        self._event(ACCOUNTED, node.name, "info", dict(payload))

    def _holding(self, node: Node, version: int | None) -> Holding:
        """The rows in `node`'s table at `version` and in its quarantine now."""
        quarantine = quarantine_ref(node.ref)
        held = (int(self.warehouse.dataset(quarantine).count_rows())
                if self.warehouse.exists(quarantine) else 0)
        return Holding(self._visible_rows(node, version) or 0, held)

    def _build(self, node: Node, step: PlanStep, read: dict[str, int],
               quality: QualityStep | None) -> WriteResult | None:
        """Build the way the node's kind builds (`TableKind.build`)."""
        builders = {"view": self._build_view, "incremental": self._build_incremental,
                    "full": self._build_full, "ml": self._build_ml}
        check_point_in_time(node, self.engine)
        build = node.table_kind.build
        return builders[build](self._masked_on_write(node, build), step, read, quality)

    def _masked_on_write(self, node: Node, build: str) -> Node:
        """`node` whose SQL masks the columns its config masks on write (`columns: {cpf:
        {mask: hmac}}`): the stored table never holds their raw values."""
        masks = {name: doc.mask for name, doc in node.config.columns.items() if doc.mask}
        if not masks:
            return node
        if build != "full" or node.sql is None:
            raise ModelError(
                f"{node.ref}: write-time masks ({', '.join(sorted(masks))}) apply to SQL "
                f"models of kind full; this is a {node.language} model of kind "
                f"{node.config.kind}", location=node.location,
                hint="mask the column in a full SQL model downstream, or mask it for readers "
                     "in afluente.yml (`governance.roles.ROLE.masks`)")
        from afluente.config.governance import KEYED_MASKS
        from afluente.governance.policies import masked_select
        from afluente.governance.reader import write_mask_key

        columns = list(self.engine.describe_query(node.sql))
        missing = sorted(set(masks) - set(columns))
        if missing:
            raise ModelError(f"{node.ref}: cannot mask {', '.join(missing)} on write: the "
                             f"model has no such column (it has {', '.join(columns)})",
                             location=node.location)
        key = write_mask_key(self.project) if KEYED_MASKS & set(masks.values()) else None
        return dataclasses.replace(node, sql=masked_select(node.sql, columns, masks, key))

    def _build_view(self, node: Node, step: PlanStep, read: dict[str, int],
                    quality: QualityStep | None) -> None:
        if quality is not None:  # evaluated when built; readers see the kept rows
            quality.apply(node)
            quality.commit_quarantine(node, None)
        self._define_view(node)

    def _build_full(self, node: Node, step: PlanStep, read: dict[str, int],
                    quality: QualityStep | None) -> WriteResult:
        if quality is None:
            return self._write_by_group(node, step, read) or self._write_model(
                node, step, dict(read))
        written = self._write_model(quality.apply(node), step, dict(read))
        quality.commit_quarantine(node, written.version)
        return written

    def _build_ml(self, node: Node, step: PlanStep, read: dict[str, int],
                  quality: QualityStep | None) -> WriteResult | None:
        """A `train` or `score` table (runtime/ml_build.py)."""
        from afluente.runtime.ml_build import MLBuild

        prints = {str(u): self.graph.fingerprints[u] for u in materialized_inputs(self.graph,
                                                                                  node.ref)}
        written = MLBuild(
            self.project, self.engine, self.warehouse, node, self.run_id, self.started_at,
            step.fingerprint, read, prints, self.plan.observations[node.ref].last,
            self.plan.full_refresh, lambda kind, payload: self._event(kind, node.name,
                                                                      _level(payload), payload),
        ).run()
        if written is not None:
            self.versions[node.ref] = written.version
            self._event("table_committed", node.name, "info",
                        {"version": written.version, "rows": written.rows})
        else:
            self.reasons[node.ref] = "every row has a prediction of this model version"
        return written

    def _write_by_group(self, node: Node, step: PlanStep, read: dict[str, int]
                        ) -> WriteResult | None:
        """A `full` aggregate built before by this definition: recompute only the groups its
        inputs' changed rows touch (runtime/group_refresh.py); None: rebuild it whole (the
        result's reason says why)."""
        from afluente.model.group_shape import NotByGroup  # sqlglot: only when one runs
        from afluente.runtime.group_refresh import GroupRefresh

        seen = self.plan.observations[step.ref]
        if (self.plan.full_refresh or seen.last is None or seen.version is None
                or seen.damage is not None or seen.last.fingerprint != step.fingerprint):
            return None
        refresh = GroupRefresh(self.graph, self.engine, self.warehouse, node, seen.last,
                               seen.version, read)
        try:
            prepared = refresh.prepare()
            if isinstance(prepared, NotByGroup):
                self.reasons[node.ref] = (f"{step.reason.split('; ')[0]}; kind `full` "
                                          f"recomputes the whole table ({prepared.reason})")
                return None
            written = self._write_model(dataclasses.replace(node, sql=prepared.sql), step,
                                        dict(read))
        finally:
            refresh.release()
        self.reasons[node.ref] = prepared.reason
        return written

    def _write_model(self, node: Node, step: PlanStep, inputs: dict[str, object]) -> WriteResult:
        staged = (node.language == "sql" and not node.config.contracted_types
                  and node.config.entity_key is None)  # feature tables: columns checked
        written = self._write_staged(node, step, inputs) if staged else None
        if written is None:
            if node.language == "python":
                assert node.function is not None
                stream = self.engine.run_python(
                    model_function(node), node.upstream, node.keywords, node.location, node.name
                )
            else:
                assert node.sql is not None
                stream = self.engine.run_sql(node.sql, node.location, node.name)
            written = self._write(node, step, stream, inputs)
        self.versions[node.ref] = written.version
        self._event(
            "table_committed",
            node.name,
            "info",
            {"version": written.version, "rows": written.rows, "replayed": written.already_written},
        )
        return written

    def _build_incremental(
        self, node: Node, step: PlanStep, read: dict[str, int], quality: QualityStep | None
    ) -> WriteResult | None:
        build = IncrementalBuild(
            graph=self.graph,
            engine=self.engine,
            warehouse=self.warehouse,
            node=node,
            step=step,
            run_id=self.run_id,
            started_at=self.started_at,
            inputs=read,
            last=self.plan.observations[node.ref].last,
            full_refresh=self.plan.full_refresh,
            attach=self._attach_dataset,
            reattach=self._reattach,
            quality=quality,
        )
        outcome = build.run()
        self.reasons[node.ref] = outcome.reason
        self.read_modes[node.ref] = outcome.mode
        if outcome.written is not None:
            self.versions[node.ref] = outcome.written.version
            self._event("table_committed", node.name, "info", {
                "version": outcome.written.version, "rows": outcome.written.rows,
                "read": outcome.mode, "reason": outcome.reason,
                **({"event_time": outcome.event_time} if outcome.event_time else {}),
            })
        return outcome.written

    def _write_staged(
        self, node: Node, step: PlanStep, inputs: dict[str, object]
    ) -> WriteResult | None:
        """The fast path: the engine writes Parquet in parallel, storage commits the files.
        None when the engine or warehouse cannot, or the result needs the Delta writer."""
        if Capability.PARQUET_FILES not in self.engine.capabilities or not self.warehouse.is_local:
            return None
        assert node.sql is not None
        encryptor = self.warehouse.encryptor
        if encryptor is not None and encryptor.columns(
                node.ref, list(self.engine.describe_query(node.sql))):
            return None  # encrypted columns: sealed on the Delta writer path, never staged
        directory = self.warehouse.staging_dir(node.ref, self.run_id)
        try:
            written = self.engine.write_parquet(node.sql, node.location, node.name, directory)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        if written is None or not written[0]:
            shutil.rmtree(directory, ignore_errors=True)
            return None
        files, rows = written
        return self.warehouse.commit_staged(
            node.ref,
            StagedFiles(directory, tuple(files), rows),
            run_id=self.run_id,
            fingerprint=step.fingerprint,
            inputs=inputs,
        )

    def _ingest(self, node: Node, step: PlanStep) -> WriteResult | None:
        """Ingest the source's next batch; None when it has nothing new."""
        replayed = self.warehouse.written_by(node.ref, self.run_id)
        if replayed is not None:
            self.versions[node.ref] = replayed.version
            return replayed
        streams: list[ResultStream] = []
        request = IngestRequest(
            project=self.project,
            node=node,
            warehouse=self.warehouse,
            run_id=self.run_id,
            started_at=self.started_at,
            fingerprint=step.fingerprint,
            full_refresh=self.plan.full_refresh,
            report=lambda stats: self.reporter.ingest_progress(node.ref, stats),
        )
        try:
            outcome = ingest(request, streams.append)
        except Exception:
            if streams and streams[0].failure:
                failure = streams[0].failure[0]
                if isinstance(failure, AfluenteError):
                    raise failure from None
            raise
        if outcome.written is None:
            return None
        self.versions[node.ref] = outcome.written.version
        self._event(
            "table_committed",
            node.name,
            "info",
            {
                "version": outcome.written.version,
                "rows": outcome.written.rows,
                "replayed": outcome.written.already_written,
                "batch": outcome.summary,
                "progress": outcome.progress,
                **({"stream": outcome.stream} if outcome.stream is not None else {}),
            },
        )
        return outcome.written

    def _write(
        self, node: Node, step: PlanStep, stream: ResultStream, inputs: dict[str, object]
    ) -> WriteResult:
        try:
            check_contract(node.config.contracted_types, stream.reader.schema, node.location,
                           node.name, self.engine)
            if node.config.entity_key is not None:
                check_feature_columns(stream.reader.schema, node.config, node.location,
                                      node.name)
            return self.warehouse.write(
                node.ref,
                stream.reader,
                run_id=self.run_id,
                fingerprint=step.fingerprint,
                inputs=inputs,
            )
        except Exception:
            if stream.failure:
                failure = stream.failure[0]
                raise failure if isinstance(failure, AfluenteError) else EngineError(
                    str(failure), location=node.location, table=node.name
                ) from None
            raise

    def _face_damage(self, step: PlanStep, attempt: int) -> None:
        """A damaged table fails its build, unless the run rebuilds it from upstream
        (`--full-refresh`): its damaged files are then moved aside, kept, first."""
        seen = self.plan.observations.get(step.ref)
        if seen is None or seen.damage is None:
            return
        if not self.plan.full_refresh:
            raise seen.damage
        if attempt == 1:
            kept = self.warehouse.set_aside(step.ref)
            log.warning("%s is damaged (%s): rebuilding it; its files were moved to %s",
                        step.ref, seen.damage.message, kept,
                        extra={"run_id": self.run_id, "model": step.node.name})

    def _attach_inputs(self, node: Node) -> dict[str, int]:
        for up in dict.fromkeys(node.upstream):
            self._attach(up)
        return {
            str(u): self._version(u)
            for u in materialized_inputs(self.graph, node.ref)
        }

    def _attach(self, ref: TableRef) -> None:
        node = self.graph[ref]
        if not node.materialized:
            self._define_view(node)
            return
        version = self._version(ref)
        if self.attached.get(ref, -1) != version:
            self._attach_dataset(ref, self.warehouse.dataset(ref, version))
            self.attached[ref] = version

    def _attach_dataset(self, ref: TableRef, dataset: pads.Dataset | pa.Table) -> None:
        """Attach a stored table; readers of an apply_changes table see its visible rows
        only (its bookkeeping rows and columns stay hidden behind a view)."""
        attach_stored(self.engine, self.graph[ref], dataset)

    def _reattach(self, ref: TableRef) -> None:
        """Put back the whole table after an incremental read attached part of it."""
        self.attached.pop(ref, None)
        self._attach(ref)

    def _define_view(self, node: Node) -> None:
        for up in dict.fromkeys(node.upstream):
            self._attach(up)
        if node.language == "python":
            assert node.function is not None
            stream = self.engine.run_python(
                model_function(node), node.upstream, node.keywords, node.location, node.name
            )
            if not node.config.expectations:
                self.engine.attach_table(node.ref, stream.reader.read_all())
                return
            raw = TableRef(node.ref.layer, f"{node.ref.name}__unchecked")
            self.engine.attach_table(raw, stream.reader.read_all())
            self.engine.attach_view(node.ref, checked_view_sql(
                node, f'SELECT * FROM "{raw.layer}"."{raw.name}"'), node.location)
        else:
            assert node.sql is not None
            sql = node.sql
            if node.config.expectations:
                sql = checked_view_sql(node, sql)
            self.engine.attach_view(node.ref, sql, node.location)

    def _table_rows(self, node: Node, written: WriteResult | None) -> int | None:
        """A `full` table holds what was just written; other kinds are counted."""
        kind = node.table_kind
        if written is not None and kind.holds_written_rows and not written.already_written:
            return written.rows
        return self._visible_rows(node, written.version if written else None)

    def _visible_rows(self, node: Node, version: int | None) -> int | None:
        """The rows readers of the table see (not the bookkeeping rows of apply_changes),
        from the Delta log's file statistics where it can."""
        if version is None or not node.materialized:
            return None
        dataset = self.warehouse.dataset(node.ref, version)
        visible = node.table_kind.visible_column
        if visible is not None:
            return int(dataset.count_rows(filter=pads.field(visible)))
        return int(dataset.count_rows())

    def _version(self, ref: TableRef) -> int:
        if ref not in self.versions:
            version = self.warehouse.version(ref)
            if version is None:
                self.warehouse.open(ref)  # raises TableNotFoundError with a hint
            assert version is not None
            self.versions[ref] = version
        return self.versions[ref]

    def _event(self, kind: str, model: str, level: EventLevel, payload: dict[str, object]) -> None:
        self.state.emit(Event(type=kind, run_id=self.run_id, model=model, level=level,
                              payload=payload))


def _level(payload: dict[str, object]) -> EventLevel:
    """A model that missed its promotion gate, or predictions that drift, warn."""
    return "warning" if payload.get("gate") or payload.get("drifting") else "info"


def _result_payload(result: ModelResult) -> dict[str, object]:
    return {
        "rows": result.rows,
        "version": result.version,
        "duration_s": round(result.duration_s, 3),
        "versions_read": result.versions_read,
        "table_rows": result.table_rows,
        "quality": result.quality.to_dict() if result.quality else None,
    }


