"""Plan a run: which selected tables to build and why. A pure function of the graph and of
what is observed about each table (its last commit, its version, its source's files)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from afluente.errors import DamagedTableError
from afluente.model import Graph, Node, TableRef
from afluente.runtime.incremental_read import UpstreamChange
from afluente.storage import CommitInfo

Action = Literal["run", "skip"]
ReadMode = Literal["full", "incremental"]


@dataclass(frozen=True)
class Observation:
    """What the warehouse and sources say about one table right now."""

    version: int | None = None
    last: CommitInfo | None = None
    snapshot: dict[str, Any] | None = None
    damage: DamagedTableError | None = None  # its log or a data file is unreadable
    rows: int | None = None  # at `version`, from the log's file statistics, when counted


@dataclass(frozen=True)
class PlanStep:
    node: Node
    action: Action
    reason: str
    fingerprint: str
    mode: ReadMode | None = None  # incremental kinds: how the upstream data will be read

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


def streamed_inputs(graph: Graph, ref: TableRef) -> list[TableRef]:
    """The stored inputs whose new rows are new rows of `ref`: every one but those its
    `dimensions:` name (a stream-to-table join reads a dimension whole, at its current
    version, in every micro-batch; a change of the dimension alone builds nothing)."""
    dimensions = set(graph[ref].config.dimensions or ())
    return [up for up in materialized_inputs(graph, ref) if str(up) not in dimensions]



def make_plan(
    graph: Graph,
    selected: set[TableRef],
    seen: Mapping[TableRef, Observation],
    full_refresh: bool = False,
    changes: Mapping[TableRef, Mapping[str, UpstreamChange]] | None = None,
) -> Plan:
    """`changes`: for incremental models, what each input did since the model last read it
    (see `incremental_read.observe_changes`)."""
    steps: list[PlanStep] = []
    running: set[TableRef] = set()
    for ref in graph.order:
        if ref not in selected:
            continue
        mode: ReadMode | None = None
        damage = seen[ref].damage if ref in seen else None
        action: Action
        if damage is not None:
            action, reason = "run", _damaged_reason(damage, full_refresh)
            mode = "full" if graph[ref].config.incremental else None
        elif graph[ref].config.incremental and graph[ref].language != "source":
            action, mode, reason = _decide_incremental(
                graph, ref, seen, running, full_refresh, (changes or {}).get(ref, {})
            )
        else:
            action, reason = _decide(graph, ref, seen, running, full_refresh)
        if action == "run" and graph[ref].materialized:
            running.add(ref)
        steps.append(PlanStep(graph[ref], action, reason, graph.fingerprints[ref], mode))
    return Plan(tuple(steps), full_refresh, dict(seen))


def _damaged_reason(damage: DamagedTableError, full_refresh: bool) -> str:
    """A damaged table fails its build (the executor raises `damage`) unless the run
    rebuilds it: then the damaged files are set aside first."""
    if full_refresh:
        return "--full-refresh: rebuilds the damaged table (its files are set aside first)"
    return f"damaged, the build fails: {damage.message}"


def _decide_incremental(
    graph: Graph,
    ref: TableRef,
    seen: Mapping[TableRef, Observation],
    running: set[TableRef],
    full_refresh: bool,
    changes: Mapping[str, UpstreamChange],
) -> tuple[Action, ReadMode | None, str]:
    """Run or skip, and whether the run reads all upstream data or only what is new."""
    last = seen[ref].last
    if full_refresh:
        return "run", "full", "full: --full-refresh rebuilds from all upstream data"
    if last is None:
        return "run", "full", "full: never built"
    if last.fingerprint != graph.fingerprints[ref]:
        return "run", "full", "full: definition changed since the last build, rebuild"
    rebuilt = [up for up in streamed_inputs(graph, ref) if up in running]
    if rebuilt:
        return "run", "incremental", (
            f"incremental if `{rebuilt[0]}` only appends in this run (decided when read), "
            "else full"
        )
    changed = [c for c in changes.values() if not c.unchanged]
    if not changed:
        return "skip", None, f"up to date (v{last.version})"
    return "run", *read_mode(graph[ref], changed)


def read_mode(node: Node, changed: list[UpstreamChange]) -> tuple[ReadMode, str]:
    """Incremental when exactly one input changed and only by appends; the reason says why
    not otherwise. A snapshot always reads its whole input: it *is* the snapshot."""
    if node.config.table_kind.reads_whole_input:
        return "full", "full: a snapshot compares the whole upstream with the dimension"
    rewritten = [c for c in changed if not c.appends_only]
    if rewritten:
        return "full", f"full: {rewritten[0].why}"
    if len(changed) > 1:
        names = ", ".join(f"`{c.upstream}`" for c in changed)
        return "full", (
            f"full: several inputs have new data ({names}); joining only their new rows "
            "would miss rows"
        )
    only = changed[0]
    return "incremental", (
        f"incremental: {len(only.added or ())} new file(s) of `{only.upstream}` "
        f"(v{only.since} → v{only.version})"
    )


def _upstream_runs(node: Node, up: TableRef) -> str:
    """Why a model runs when `up` does; a `full` model says it recomputes everything (the
    kinds that maintain a table from only the new rows are `append`, `merge`,
    `apply_changes`, `time_range`: docs/kinds.md)."""
    if node.config.incremental:
        return f"upstream `{up}` runs first"
    return f"upstream `{up}` runs first; {_full_reason(node)}"


def _full_reason(node: Node) -> str:
    """How a `full` model whose input changed is rebuilt: by group, or whole and why."""
    if node.kind == "train":
        return "kind `train` trains and registers a new version"
    if node.kind == "score":
        return "kind `score` scores the keys it lacks (all of them for a new model version)"
    if node.kind != "full":
        return f"kind `{node.kind}` recomputes the whole table"
    from afluente.model.group_shape import plan_reason  # sqlglot: only when one runs

    return plan_reason(node)


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
            return "run", _upstream_runs(graph[ref], up)
    for up in materialized_inputs(graph, ref):
        name, version, recorded = str(up), seen[up].version, last.inputs.get(str(up))
        if recorded != version and not _same_data(seen[up], recorded):
            return "run", (f"upstream `{name}` changed (v{recorded} → v{version}); "
                           f"{_full_reason(node)}")
    return "skip", f"up to date (v{last.version})"


def _same_data(seen: Observation, recorded: Any) -> bool:
    """Whether every commit of the table after version `recorded` only rewrote files
    (maintenance: compaction, Z-order, vacuum), so its data is what `recorded` held."""
    last = seen.last
    return (last is not None and last.data_version is not None and isinstance(recorded, int)
            and last.data_version <= recorded <= last.version)


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
