"""The selector grammar of `--select`.

    silver.orders      one table (globs allowed: silver.*, *.orders)
    +silver.orders     it and everything upstream
    silver.orders+     it and everything downstream
    layer:gold         every table of a layer     tag:finance   every table with a tag
    kind:view          every table of a kind

Space-separated selectors are a union; comma-joined ones (`layer:gold,tag:finance`) an
intersection. Each atom can take `+` on either side.
"""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass

from afluente.errors import SelectorError
from afluente.model.graph import Graph
from afluente.model.refs import TableRef

METHODS = ("layer", "tag", "kind")


@dataclass(frozen=True)
class Atom:
    method: str
    value: str
    upstream: bool
    downstream: bool


def parse_atom(text: str) -> Atom:
    upstream, downstream = text.startswith("+"), text.endswith("+")
    body = text.strip("+")
    if not body:
        raise SelectorError(f"empty selector {text!r}", hint="e.g. silver.orders or +gold.*")
    method, sep, value = body.partition(":")
    if not sep:
        return Atom("name", body.lower(), upstream, downstream)
    if method not in METHODS:
        close = difflib.get_close_matches(method, METHODS, n=1)
        hint = f"did you mean `{close[0]}:`? " if close else ""
        raise SelectorError(
            f"unknown selector method `{method}:` in {text!r}",
            hint=hint + f"methods: {', '.join(f'{m}:' for m in METHODS)} or layer.table",
        )
    return Atom(method, value, upstream, downstream)


#: What an empty selector's error proposes instead.
_EMPTY_HINT = (
    "leave the selector out to select every table, or name some: "
    "silver.orders, +gold.*, layer:silver, tag:finance"
)


def select(graph: Graph, expression: str | None) -> set[TableRef]:
    """The refs `expression` selects; every table when there is none (None).

    An empty or blank expression is an error, not "everything": `--select "$TABLES"` with
    the variable unset must not build the whole project.
    """
    if expression is None:
        return set(graph.nodes)
    if not expression.strip():
        raise SelectorError(f"empty selector {expression!r}: it selects nothing",
                            hint=_EMPTY_HINT)
    selected: set[TableRef] = set()
    for term in expression.split():
        parts = [select_atom(graph, parse_atom(a)) for a in term.split(",") if a]
        selected |= set.intersection(*parts) if parts else set()
    if not selected:
        raise SelectorError(f"selector {expression!r} matches no table", hint=graph.suggest(""))
    return selected


def select_atom(graph: Graph, atom: Atom) -> set[TableRef]:
    base = {ref for ref, node in graph.nodes.items() if _matches(atom, ref, node.config.tags,
                                                                  node.kind)}
    if not base:
        raise SelectorError(
            f"selector `{_render(atom)}` matches no table",
            hint=graph.suggest(atom.value) if atom.method == "name" else _values_hint(graph, atom),
        )
    result = set(base)
    if atom.upstream:
        result |= graph.upstream_of(base)
    if atom.downstream:
        result |= graph.downstream_of(base)
    return result


def _matches(atom: Atom, ref: TableRef, tags: tuple[str, ...], kind: str) -> bool:
    if atom.method == "name":
        return fnmatch.fnmatchcase(str(ref), atom.value)
    if atom.method == "layer":
        return fnmatch.fnmatchcase(ref.layer, atom.value)
    if atom.method == "tag":
        return atom.value in tags
    return kind == atom.value


def _values_hint(graph: Graph, atom: Atom) -> str:
    if atom.method == "layer":
        values = {r.layer for r in graph.nodes}
    elif atom.method == "tag":
        values = {t for n in graph.nodes.values() for t in n.config.tags}
    else:
        values = {n.kind for n in graph.nodes.values()}
    return f"known {atom.method} values: {', '.join(sorted(values)) or '(none)'}"


def _render(atom: Atom) -> str:
    body = atom.value if atom.method == "name" else f"{atom.method}:{atom.value}"
    return ("+" if atom.upstream else "") + body + ("+" if atom.downstream else "")
