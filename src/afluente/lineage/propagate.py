"""Values follow passing edges: a column reached from another over an `identity` or a
`transformation` edge holds (a form of) its values, so it inherits its tags (`pii`) and,
upstream, the column a tagged one is computed from holds the raw value. Aggregates,
filters and joins do not pass values on, so the walk stops there. The landing zone's
`source:` columns are never reached: what a source holds is the source system's."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Literal

from afluente.lineage.model import SOURCE_PREFIX
from afluente.lineage.project import ProjectLineage

PASSING = ("identity", "transformation")
Way = Literal["downstream", "upstream"]
Links = dict[str, set[str]]


def passing_links(lineage: ProjectLineage, way: Way) -> Links:
    """`table.column` → the columns one passing edge away, `way` (downstream: its copies)."""
    links: Links = defaultdict(set)
    for edge in lineage.edges():
        if edge.kind in PASSING:
            a, b = (edge.source, edge.target) if way == "downstream" else (edge.target,
                                                                           edge.source)
            links[str(a)].add(str(b))
    return links


def reach(links: Links, start: Iterable[str]) -> set[str]:
    """`start` and every column reachable from it over `links`."""
    seen = set(start)
    todo = list(seen)
    while todo:
        for other in links.get(todo.pop(), ()):
            if other not in seen and not other.startswith(SOURCE_PREFIX):
                seen.add(other)
                todo.append(other)
    return seen


def propagate_tags(lineage: ProjectLineage, declared: Mapping[str, set[str]],
                   way: Way = "downstream") -> dict[str, set[str]]:
    """`declared` (`table.column` → tags) plus what each column inherits `way`."""
    links = passing_links(lineage, way)
    tags: dict[str, set[str]] = defaultdict(set)
    for column, own in declared.items():
        if own:
            for reached in reach(links, {column}):
                tags[reached] |= own
    return tags


def origins(lineage: ProjectLineage, tagged: Iterable[str]) -> dict[str, set[str]]:
    """Every column holding the values of a `tagged` column, with the tagged columns it holds
    them from: the tagged column itself, its copies downstream, and the columns upstream of
    those. A column that is the *only* source of a column holding the values holds them too
    (`bronze.customers.email` for silver's `lower(email)`), so its own copies downstream do
    (a second model reading the bronze column directly); a column that is one of several
    sources (`city` in `name || city`) is marked, but what is computed from it alone is not
    followed."""
    down = passing_links(lineage, "downstream")
    up = passing_links(lineage, "upstream")
    held: dict[str, set[str]] = defaultdict(set)
    todo = [(column, column) for column in tagged]
    while todo:
        column, origin = todo.pop()
        if origin in held[column]:
            continue
        held[column].add(origin)
        todo.extend((copy, origin) for copy in down.get(column, ())
                    if not copy.startswith(SOURCE_PREFIX))
        sources = up.get(column, set())
        if len(sources) == 1 and not (only := next(iter(sources))).startswith(SOURCE_PREFIX):
            todo.append((only, origin))
    above = propagate_tags(lineage, held, "upstream")
    return {c: held.get(c, set()) | above.get(c, set()) for c in {*held, *above}}
