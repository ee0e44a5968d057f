"""Plan a run: which selected tables to build and why. A pure function of the graph and of
what is observed about each table (its last commit, its version, its source's files)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from afluente.model import Graph, Node, TableRef
from afluente.storage import CommitInfo

Action = Literal["run", "skip"]


@dataclass(frozen=True)
class Observation:
    """What the warehouse and sources say about one table right now."""

    version: int | None = None
    last: CommitInfo | None = None
    snapshot: dict[str, Any] | None = None


@dataclass(frozen=True)
class PlanStep:
    node: Node
    action: Action
    reason: str
    fingerprint: str

    @property
    def ref(self) -> TableRef:
        return self.node.ref


@dataclass(frozen=True)
class Plan:
    steps: tuple[PlanStep, ...]
    full_refresh: bool = False
    observations: Mapping[TableRef, Observation] = field(default_factory=dict)

    @property
    def to_run(self) -> tuple[PlanStep, ...]:
        return tuple(s for s in self.steps if s.action == "run")


def materialized_inputs(graph: Graph, ref: TableRef) -> list[TableRef]:
    """The stored tables `ref` reads, looking through views to what they read."""
    found: list[TableRef] = []
    for up in dict.fromkeys(graph[ref].upstream):
        if graph[up].materialized:
            found.append(up)
        else:
            found.extend(u for u in materialized_inputs(graph, up) if u not in found)
    return found


def expected_inputs(graph: Graph, ref: TableRef, seen: Mapping[TableRef, Observation]) -> dict[
    str, Any
]:
    """What a build of `ref` from the current state would record as its inputs."""
    return {str(up): seen[up].version for up in materialized_inputs(graph, ref)}


def make_plan(
    graph: Graph,
    selected: set[TableRef],
    seen: Mapping[TableRef, Observation],
    full_refresh: bool = False,
) -> Plan:
    steps: list[PlanStep] = []
    running: set[TableRef] = set()
    for ref in graph.order:
        if ref not in selected:
            continue
        action, reason = _decide(graph, ref, seen, running, full_refresh)
        if action == "run" and graph[ref].materialized:
            running.add(ref)
        steps.append(PlanStep(graph[ref], action, reason, graph.fingerprints[ref]))
    return Plan(tuple(steps), full_refresh, dict(seen))


def _decide(
    graph: Graph,
    ref: TableRef,
    seen: Mapping[TableRef, Observation],
    running: set[TableRef],
    full_refresh: bool,
) -> tuple[Action, str]:
    node = graph[ref]
    if not node.materialized:
        return "run", "view: defined for this run, computed when read"
    if full_refresh:
        return "run", "--full-refresh"
    if node.language == "source":
        return _decide_source(graph, ref, seen[ref])
    last = seen[ref].last
    if last is None:
        return "run", "never built"
    if last.fingerprint != graph.fingerprints[ref]:
        return "run", "definition changed since the last build"
    for up in materialized_inputs(graph, ref):
        if up in running:
            return "run", f"upstream `{up}` will be rebuilt"
    expected = expected_inputs(graph, ref, seen)
    for name, version in expected.items():
        if last.inputs.get(name) != version:
            return "run", f"upstream `{name}` changed (v{last.inputs.get(name)} → v{version})"
    return "skip", f"up to date (v{last.version})"


def _decide_source(graph: Graph, ref: TableRef, seen: Observation) -> tuple[Action, str]:
    """Ingest when the source has (or may have) new data; its connector looked cheaply."""
    check = seen.snapshot or {}
    if check.get("error"):
        return "run", f"source check failed, the build will report it: {check['error']}"
    detail = f" ({check['detail']})" if check.get("detail") else ""
    last = seen.last
    if last is None:
        return "run", "never ingested" + detail
    if "pending" in check:
        if check["pending"]:
            return "run", "new data" + detail
        return "skip", "no new data" + detail
    signature = check.get("signature")
    if signature is None:
        return "run", "incremental source: new rows are found when it is read"
    if last.fingerprint != graph.fingerprints[ref]:
        return "run", "definition changed since the last ingestion"
    if (last.progress or {}).get("signature") != signature:
        return "run", "source changed" + detail
    return "skip", f"up to date (v{last.version})"
