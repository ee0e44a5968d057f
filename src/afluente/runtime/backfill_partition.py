"""Build one partition of a time_range model: its own engine, the upstream tables at pinned
versions, the query with the partition's bounds as variables, one Delta commit.

The query sees `getvariable('partition_start')` (inclusive) and `getvariable('partition_end')`
(exclusive) as TIMESTAMPs, so it can filter its upstream early; its output is then cut to the
rows whose partition column equals the partition, so a query that ignores the bounds is still
correct. `replace_partitions` replaces exactly that partition (an empty output deletes its
rows). Two partitions committing at once may conflict in the Delta log: the conflict is
transient, nothing was written, so the partition is computed and committed again.
"""

from __future__ import annotations

import logging
import random
import time
from contextlib import closing
from dataclasses import dataclass

from afluente.config import Project
from afluente.engines import Engine, create_engine, engine_settings
from afluente.engines.frames import model_function
from afluente.errors import AfluenteError, CommitConflictError, EngineError
from afluente.model import Graph, Node, TableRef
from afluente.runtime.backfill_range import Partition
from afluente.runtime.contracts import check_contract
from afluente.runtime.incremental_views import attach_stored
from afluente.runtime.incremental_write import KindOutcome, replace_partitions
from afluente.runtime.planner import materialized_inputs
from afluente.storage import Warehouse
from afluente.storage.commits import CommitDescription
from afluente.streams import ResultStream
from afluente.transform import Target

log = logging.getLogger("afluente.backfill")

START_VAR, END_VAR = "partition_start", "partition_end"
CONFLICT_RETRIES = 6
BACKOFF_S = 0.2


@dataclass(frozen=True)
class ModelPhase:
    """What every partition of one model shares: the graph and the upstream versions read
    (pinned when the model's partitions start, so all of them see the same data)."""

    project: Project
    graph: Graph
    warehouse: Warehouse
    node: Node
    inputs: dict[TableRef, int]

    @classmethod
    def pin(cls, project: Project, graph: Graph, warehouse: Warehouse, node: Node) -> ModelPhase:
        inputs: dict[TableRef, int] = {}
        for ref in materialized_inputs(graph, node.ref):
            version = warehouse.version(ref)
            if version is None:
                warehouse.open(ref)  # raises TableNotFoundError with a hint
            assert version is not None
            inputs[ref] = version
        return cls(project, graph, warehouse, node, inputs)


def build_partition(phase: ModelPhase, partition: Partition, run_id: str) -> KindOutcome:
    """Replace `partition` of the phase's model with what its query gives for it, retrying
    on a Delta commit conflict."""
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            return _build_once(phase, partition, run_id)
        except CommitConflictError:
            if attempt == CONFLICT_RETRIES:
                raise
            delay = BACKOFF_S * 2**attempt * (1 + random.random())
            log.info("commit conflict on %s partition %s, retrying in %.2fs",
                     phase.node.name, partition.key, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def _build_once(phase: ModelPhase, partition: Partition, run_id: str) -> KindOutcome:
    node, config = phase.node, phase.project.config
    variables = {**config.vars, START_VAR: partition.start, END_VAR: partition.end}
    # the model's own `engine:` (else the project's), as `run` builds it
    engine = create_engine(engine_settings(phase.project, node.config.engine), variables)
    try:
        if phase.warehouse.encryptor is not None:  # the inputs' encrypted columns, opened
            engine.use_decryptor(phase.warehouse.encryptor)
        for up in dict.fromkeys(node.upstream):
            _attach(engine, phase, up)
        stream = _run_query(engine, node)
        try:
            check_contract(node.config.contracted_types, stream.reader.schema, node.location,
                           node.name, engine)
            target = Target(phase.warehouse.uri(node.ref), phase.warehouse.storage_options,
                            node.name, phase.warehouse.private_of(node.ref),
                            phase.warehouse.sealing(node.ref))
            with closing(engine.workspace()) as ws:
                return replace_partitions(ws, target, node, stream.reader,
                                          _props(phase, run_id), [partition.value])
        except Exception:
            _raise_stream_failure(stream)
            raise
    finally:
        engine.close()


def _attach(engine: Engine, phase: ModelPhase, ref: TableRef) -> None:
    node = phase.graph[ref]
    if node.materialized:
        attach_stored(engine, node, phase.warehouse.dataset(ref, phase.inputs[ref]))
        return
    for up in dict.fromkeys(node.upstream):
        _attach(engine, phase, up)
    if node.language == "python":
        engine.attach_table(ref, _run_query(engine, node).reader.read_all())
    else:
        assert node.sql is not None
        engine.attach_view(ref, node.sql, node.location)


def _run_query(engine: Engine, node: Node) -> ResultStream:
    if node.language == "python":
        assert node.function is not None
        return engine.run_python(model_function(node), node.upstream, node.keywords, node.location,
                                 node.name)
    assert node.sql is not None
    return engine.run_sql(node.sql, node.location, node.name)


def _props(phase: ModelPhase, run_id: str) -> CommitDescription:
    """The commit carries the run id, fingerprint and versions read like any model write, so
    the next `afluente run` knows which upstream versions the partitions were built from."""
    inputs = {str(ref): version for ref, version in phase.inputs.items()}
    fingerprint = phase.graph.fingerprints.get(phase.node.ref, "")
    return CommitDescription(run_id, phase.node.name, fingerprint, inputs)


def _raise_stream_failure(stream: ResultStream) -> None:
    """The query's own error explains a failed write better than the writer's."""
    if stream.failure:
        failure = stream.failure[0]
        if isinstance(failure, AfluenteError):
            raise failure from None
        if isinstance(failure, Exception):
            raise EngineError(str(failure)) from None
