"""What a backfill does, in order: stages over the selected models in dependency order.

A time_range model is a stage of its own: one task per partition of the range. Runs of
consecutive other models (full, merge, views...) between them are one stage each, built by
a normal run (`run_project` with those models selected), so a selection like
`silver.events+` backfills the daily table and then rebuilds the gold tables that read it,
and `+silver.events` brings bronze up to date first. Pure: no engine, no store.
"""

from __future__ import annotations

from dataclasses import dataclass

from afluente.errors import ConfigError, SelectorError
from afluente.model import Graph, Node, TableRef, select
from afluente.runtime.backfill_range import DateRange, Grain, Partition, partitions


@dataclass(frozen=True)
class PartitionStage:
    node: Node
    partitions: tuple[Partition, ...]


@dataclass(frozen=True)
class RunStage:
    refs: tuple[TableRef, ...]

    @property
    def selector(self) -> str:
        return " ".join(str(r) for r in self.refs)


Stage = PartitionStage | RunStage


@dataclass(frozen=True)
class BackfillPlan:
    stages: tuple[Stage, ...]

    @property
    def partition_stages(self) -> tuple[PartitionStage, ...]:
        return tuple(s for s in self.stages if isinstance(s, PartitionStage))

    @property
    def tasks(self) -> list[tuple[str, str]]:
        """(model, partition key) of every partition task, in execution order."""
        return [(s.node.name, p.key) for s in self.partition_stages for p in s.partitions]


def plan_backfill(graph: Graph, selector: str | None, span: DateRange) -> BackfillPlan:
    chosen = select(graph, selector)
    ranged = [r for r in graph.order if r in chosen and graph[r].table_kind.time_partitioned]
    if not ranged:
        raise _no_time_range(graph, selector)
    stages: list[Stage] = []
    others: list[TableRef] = []
    for ref in graph.order:
        if ref not in chosen:
            continue
        node = graph[ref]
        if not node.table_kind.time_partitioned:
            others.append(ref)
            continue
        if others:
            stages.append(RunStage(tuple(others)))
            others = []
        _refuse_expectations(node)
        grain: Grain = node.config.partition_by or "day"
        stages.append(PartitionStage(node, tuple(partitions(span, grain, node.name,
                                                            node.location))))
    if others:
        stages.append(RunStage(tuple(others)))
    return BackfillPlan(tuple(stages))


def _refuse_expectations(node: Node) -> None:
    """Partitions are committed in parallel, each on its own: their rows would skip the
    model's expectations and their quarantine commits would race, so refuse before starting."""
    if node.config.expectations:
        raise ConfigError(
            f"`{node.name}` has expectations, which `afluente backfill` does not evaluate "
            "per partition",
            location=node.location, table=node.name,
            hint=f"rebuild it with its expectations: `afluente run --full-refresh --select "
            f"{node.name}`",
        )


def _no_time_range(graph: Graph, selector: str | None) -> SelectorError:
    existing = [str(r) for r in graph.order if graph[r].table_kind.time_partitioned]
    what = f"selector `{selector}`" if selector else "the project"
    if existing:
        return SelectorError(
            f"{what} selects no time_range model; a backfill rebuilds the time partitions of "
            f"time_range models (this project has: {', '.join(existing)})",
            hint=f"select one of them, e.g. `afluente backfill {existing[0]} --start ... "
            "--end ...`; other models are rebuilt with `afluente run`",
        )
    return SelectorError(
        f"{what} selects no time_range model, and the project has none",
        hint="a backfill rebuilds time partitions of models with `kind: time_range` and a "
        "`time_column:` (docs/kinds.md)",
    )
