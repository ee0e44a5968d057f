"""The validated DAG of a project: no duplicates, no unknown tables, no cycles."""

from __future__ import annotations

import difflib
import hashlib
import heapq
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from afluente.errors import ModelError
from afluente.model.nodes import Node
from afluente.model.point_in_time import expand, has_calls
from afluente.model.refs import TableRef


@dataclass(frozen=True)
class Graph:
    """Nodes in a deterministic topological order, with edges both ways."""

    nodes: dict[TableRef, Node]
    order: tuple[TableRef, ...]
    downstream: dict[TableRef, tuple[TableRef, ...]]
    fingerprints: dict[TableRef, str] = field(default_factory=dict)

    def __getitem__(self, ref: TableRef) -> Node:
        return self.nodes[ref]

    def __len__(self) -> int:
        return len(self.nodes)

    def upstream_of(self, refs: Iterable[TableRef]) -> set[TableRef]:
        """Every ancestor of `refs` (not including them)."""
        return _closure(refs, lambda r: self.nodes[r].upstream)

    def downstream_of(self, refs: Iterable[TableRef]) -> set[TableRef]:
        """Every descendant of `refs` (not including them)."""
        return _closure(refs, lambda r: self.downstream.get(r, ()))

    def resolve(self, text: str) -> TableRef:
        """`layer.table` → a ref of this graph, or an error with close matches."""
        ref = TableRef.parse(text)
        if ref not in self.nodes:
            raise ModelError(f"unknown table `{text}`", hint=self.suggest(str(ref)))
        return ref

    def suggest(self, name: str) -> str:
        names = sorted(str(r) for r in self.nodes)
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        if close:
            return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"
        return "known tables: " + ", ".join(names[:20]) + (" ..." if len(names) > 20 else "")


def build_graph(
    nodes: list[Node], layers: tuple[str, ...] = (), variables: dict[str, Any] | None = None
) -> Graph:
    """Validate `nodes` and order them; errors name the model file and line. Project
    `variables` count in the fingerprint of the models whose code reads them."""
    by_ref = _unique(nodes)
    _check_references(by_ref)
    by_ref = {ref: expand(n, by_ref) if n.sql is not None and has_calls(n.sql) else n
              for ref, n in by_ref.items()}
    _check_stream_keys(by_ref)
    downstream: dict[TableRef, list[TableRef]] = {ref: [] for ref in by_ref}
    for node in by_ref.values():
        for up in node.upstream:
            downstream[up].append(node.ref)
    order = _topological(by_ref, downstream, layers)
    frozen = {ref: tuple(children) for ref, children in downstream.items()}
    graph = Graph(nodes=by_ref, order=order, downstream=frozen)
    graph.fingerprints.update(_fingerprints(graph, variables or {}))
    return graph


def _unique(nodes: list[Node]) -> dict[TableRef, Node]:
    by_ref: dict[TableRef, Node] = {}
    for node in nodes:
        if node.ref in by_ref:
            first = by_ref[node.ref]
            raise ModelError(
                f"table `{node.ref}` is defined twice (first at {first.location})",
                location=node.location,
                hint="rename one of the models, or remove the duplicate",
            )
        by_ref[node.ref] = node
    return by_ref


def _check_references(by_ref: dict[TableRef, Node]) -> None:
    names = sorted(str(r) for r in by_ref)
    for node in by_ref.values():
        for dep in node.depends_on:
            if dep.ref in by_ref:
                continue
            close = difflib.get_close_matches(str(dep.ref), names, n=3, cutoff=0.6)
            hint = "did you mean " + " or ".join(f"`{c}`" for c in close) + "?" if close else (
                "no table has a similar name; add a model file or a source for it"
            )
            raise ModelError(
                f"`{node.ref}` reads unknown table `{dep.ref}`",
                location=dep.location,
                hint=hint,
            )


def _check_stream_keys(by_ref: dict[TableRef, Node]) -> None:
    """Every `dimensions:` entry names a table the model reads; `closes_at` reads a stream
    with an event time."""
    for node in by_ref.values():
        read = {str(up) for up in node.upstream}
        if node.config.closes_at and not any(by_ref[up].config.event_time
                                             for up in node.upstream):
            raise ModelError(
                f"`closes_at: {node.config.closes_at}` needs a stream with an event time: "
                f"none of the tables `{node.ref}` reads ({', '.join(sorted(read))}) declares "
                "`event_time`", location=node.location, table=str(node.ref),
                hint="declare `event_time` and `watermark` on the table the windows read")
        for name in node.config.dimensions or ():
            if name not in read:
                raise ModelError(
                    f"`dimensions` names `{name}`, which `{node.ref}` does not read "
                    f"(it reads: {', '.join(sorted(read)) or 'nothing'})",
                    location=node.location, table=str(node.ref),
                    hint="list the `layer.table` names the query joins as dimensions",
                )


def _topological(
    by_ref: dict[TableRef, Node],
    downstream: dict[TableRef, list[TableRef]],
    layers: tuple[str, ...],
) -> tuple[TableRef, ...]:
    rank = {layer: i for i, layer in enumerate(layers)}
    key = lambda r: (rank.get(r.layer, len(rank)), r.layer, r.name)  # noqa: E731
    indegree = {ref: len(set(node.upstream)) for ref, node in by_ref.items()}
    ready = [(key(r), r) for r, n in indegree.items() if n == 0]
    heapq.heapify(ready)
    order: list[TableRef] = []
    while ready:
        _, ref = heapq.heappop(ready)
        order.append(ref)
        for child in dict.fromkeys(downstream[ref]):
            indegree[child] -= 1
            if indegree[child] == 0:
                heapq.heappush(ready, (key(child), child))
    if len(order) < len(by_ref):
        _raise_cycle(by_ref, set(by_ref) - set(order))
    return tuple(order)


def _raise_cycle(by_ref: dict[TableRef, Node], remaining: set[TableRef]) -> None:
    start = min(remaining)
    path = [start]
    current = start
    while True:
        current = next(r for r in by_ref[current].upstream if r in remaining)
        if current in path:
            cycle = [*path[path.index(current) :], current]
            break
        path.append(current)
    first = by_ref[cycle[0]]
    dep = next(d for d in first.depends_on if d.ref == cycle[1])
    raise ModelError(
        "dependency cycle: " + " ← ".join(str(r) for r in cycle),
        location=dep.location,
        hint="a model cannot read, directly or indirectly, from itself; break the cycle",
    )


def _fingerprints(graph: Graph, variables: dict[str, Any]) -> dict[TableRef, str]:
    prints: dict[TableRef, str] = {}
    for ref in graph.order:
        node = graph.nodes[ref]
        payload = {
            "vars": {k: v for k, v in sorted(variables.items()) if _reads_var(node.code, k)},
            "language": node.language,
            "code": node.code,
            # which engine builds it changes no row: moving a model rebuilds nothing; nor
            # does a retention period (`afluente retain` deletes, the build does not) or
            # maintenance (`afluente maintain` moves rows between files, changes none)
            "config": node.config.model_dump(mode="json", exclude=_unprinted(node)),
            "upstream": [prints[u] for u in sorted(set(node.upstream))],
        }
        digest = hashlib.sha256(
            json.dumps(payload, sort_keys=True, default=str).encode()
        ).hexdigest()
        prints[ref] = digest[:16]
    return prints


#: a stream's event time policy applies from the next micro-batch on: changing it rebuilds
#: nothing (a rebuild would read every row with no watermark)
#: which inputs are dimensions only decides what counts as new rows: nothing is rebuilt
STREAM_POLICY_KEYS = frozenset({"event_time", "watermark", "late_data", "dedup_keys",
                                "dimensions"})


#: the keys of `train` and `score` models (added after the first fingerprints)
ML_KEYS = ("label", "metrics", "promote_if", "holdout", "seed", "model", "version", "alias")


def _unprinted(node: Node) -> set[str]:
    """Config keys left out of a fingerprint: those that change no stored row, and keys
    added since fingerprints were first recorded while unset (so adding them to afluente
    rebuilds no existing table)."""
    unset = {k for k in ("combine", "session_gap", *ML_KEYS) if getattr(node.config, k) is None}
    # when a window closes only decides what `__final` gets: the table's rows are the same
    return {"description", "columns", "engine", "retention", "retention_column", "closes_at",
            "maintenance",
            "entity_key",
            *STREAM_POLICY_KEYS, *unset}


def _reads_var(code: str, name: str) -> bool:
    return f"'{name}'" in code or f'"{name}"' in code


def _closure(refs: Iterable[TableRef], step: object) -> set[TableRef]:
    assert callable(step)
    seen: set[TableRef] = set()
    stack = list(refs)
    while stack:
        for nxt in step(stack.pop()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen
