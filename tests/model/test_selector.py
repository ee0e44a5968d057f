"""The `--select` grammar over a small graph of sources, SQL tables and a view."""

from __future__ import annotations

import pytest

from afluente.errors import Location, ModelError, SelectorError
from afluente.model import Dependency, Graph, Node, TableRef, build_graph, select
from afluente.model.model_config import ModelConfig, ModelKind
from afluente.model.selector import Atom, parse_atom

METHODS_HINT = "methods: layer:, tag:, kind: or layer.table"


def make(
    name: str,
    *upstream: str,
    tags: tuple[str, ...] = (),
    kind: ModelKind = "full",
    source: bool = False,
) -> Node:
    location = Location(f"{name}.sql", 1)
    return Node(
        ref=TableRef.parse(name),
        language="source" if source else "sql",
        location=location,
        config=ModelConfig(kind=kind, tags=tags),
        depends_on=tuple(Dependency(TableRef.parse(u), location) for u in upstream),
    )


@pytest.fixture(scope="module")
def graph() -> Graph:
    return build_graph(
        [
            make("bronze.orders", source=True),
            make("bronze.customers", source=True),
            make("silver.orders", "bronze.orders"),
            make("silver.customers", "bronze.customers", tags=("pii",)),
            make("silver.order_lines", "silver.orders", kind="view"),
            make("gold.revenue", "silver.orders", "silver.customers", tags=("finance",)),
            make("gold.monthly", "silver.order_lines", tags=("finance", "daily")),
        ],
        ("bronze", "silver", "gold"),
    )


def selected(graph: Graph, expression: str | None) -> list[str]:
    return sorted(str(r) for r in select(graph, expression))


def selector_error(graph: Graph, expression: str) -> SelectorError:
    with pytest.raises(SelectorError) as caught:
        select(graph, expression)
    return caught.value


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("silver.orders", ["silver.orders"]),
        ("Silver.Orders", ["silver.orders"]),
        ("+silver.orders", ["bronze.orders", "silver.orders"]),
        ("silver.orders+", ["gold.monthly", "gold.revenue", "silver.order_lines", "silver.orders"]),
        ("+silver.customers+", ["bronze.customers", "gold.revenue", "silver.customers"]),
        ("+gold.monthly", ["bronze.orders", "gold.monthly", "silver.order_lines", "silver.orders"]),
        ("layer:gold", ["gold.monthly", "gold.revenue"]),
        ("layer:s*", ["silver.customers", "silver.order_lines", "silver.orders"]),
        ("tag:finance", ["gold.monthly", "gold.revenue"]),
        ("tag:pii+", ["gold.revenue", "silver.customers"]),
        ("kind:view", ["silver.order_lines"]),
        ("kind:ingest", ["bronze.customers", "bronze.orders"]),
        ("silver.*", ["silver.customers", "silver.order_lines", "silver.orders"]),
        ("*.orders", ["bronze.orders", "silver.orders"]),
        ("silver.order?", ["silver.orders"]),
    ],
)
def test_single_atoms(graph: Graph, expression: str, expected: list[str]) -> None:
    assert selected(graph, expression) == expected


def test_space_is_union(graph: Graph) -> None:
    assert selected(graph, "silver.orders  kind:ingest tag:pii") == [
        "bronze.customers",
        "bronze.orders",
        "silver.customers",
        "silver.orders",
    ]


def test_comma_is_intersection(graph: Graph) -> None:
    assert selected(graph, "tag:finance,+silver.order_lines+") == ["gold.monthly"]
    assert selected(graph, "layer:silver,kind:full") == ["silver.customers", "silver.orders"]


def test_union_of_intersections(graph: Graph) -> None:
    assert selected(graph, "layer:gold,tag:daily kind:view") == [
        "gold.monthly",
        "silver.order_lines",
    ]


def test_no_selector_selects_everything(graph: Graph) -> None:
    assert select(graph, None) == set(graph.nodes)


@pytest.mark.parametrize("expression", ["", "   ", "\t\n"])
def test_an_empty_selector_is_an_error_not_everything(graph: Graph, expression: str) -> None:
    with pytest.raises(SelectorError) as caught:
        select(graph, expression)
    assert caught.value.message == f"empty selector {expression!r}: it selects nothing"
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("leave the selector out to select every table")


def test_parse_atom() -> None:
    assert parse_atom("+Silver.Orders+") == Atom("name", "silver.orders", True, True)
    assert parse_atom("tag:Finance") == Atom("tag", "Finance", False, False)
    assert parse_atom("layer:gold+") == Atom("layer", "gold", False, True)


def test_name_without_match_suggests_close_tables(graph: Graph) -> None:
    error = selector_error(graph, "silver.ordrs")

    assert error.message == "selector `silver.ordrs` matches no table"
    assert error.hint == (
        "did you mean `silver.orders` or `silver.order_lines` or `silver.customers`?"
    )
    assert isinstance(error, ModelError)


def test_name_without_any_close_match_lists_tables(graph: Graph) -> None:
    error = selector_error(graph, "+platinum.x+")

    assert error.message == "selector `+platinum.x+` matches no table"
    assert error.hint == (
        "known tables: bronze.customers, bronze.orders, gold.monthly, gold.revenue, "
        "silver.customers, silver.order_lines, silver.orders"
    )


@pytest.mark.parametrize(
    ("expression", "hint"),
    [
        ("tag:financ", "known tag values: daily, finance, pii"),
        ("layer:platinum", "known layer values: bronze, gold, silver"),
        ("kind:incremental", "known kind values: full, ingest, view"),
    ],
)
def test_method_value_without_match_lists_known_values(
    graph: Graph, expression: str, hint: str
) -> None:
    error = selector_error(graph, expression)

    assert error.message == f"selector `{expression}` matches no table"
    assert error.hint == hint


def test_one_unmatched_atom_fails_the_whole_expression(graph: Graph) -> None:
    error = selector_error(graph, "silver.orders tag:nope")

    assert error.message == "selector `tag:nope` matches no table"


def test_empty_intersection_is_an_error(graph: Graph) -> None:
    error = selector_error(graph, "layer:gold,tag:pii")

    assert error.message == "selector 'layer:gold,tag:pii' matches no table"
    assert error.hint is not None and error.hint.startswith("known tables: bronze.customers, ")


def test_unknown_method_suggests_the_close_one(graph: Graph) -> None:
    error = selector_error(graph, "layr:gold")

    assert error.message == "unknown selector method `layr:` in 'layr:gold'"
    assert error.hint == f"did you mean `layer:`? {METHODS_HINT}"


def test_unknown_method_without_close_match(graph: Graph) -> None:
    error = selector_error(graph, "+owner:bi")

    assert error.message == "unknown selector method `owner:` in '+owner:bi'"
    assert error.hint == METHODS_HINT


def test_plus_alone_is_an_empty_selector(graph: Graph) -> None:
    error = selector_error(graph, "silver.orders +")

    assert error.message == "empty selector '+'"
    assert error.hint == "e.g. silver.orders or +gold.*"
