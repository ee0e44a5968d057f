"""The DAG: deterministic order, closures, validation errors and fingerprints."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import replace

import pytest

from afluente.errors import Location, ModelError
from afluente.model import Dependency, Node, TableRef, build_graph
from afluente.model.model_config import ModelConfig

from .conftest import ProjectTree

LAYERS = ("bronze", "silver", "gold")


def ref(text: str) -> TableRef:
    return TableRef.parse(text)


def node(name: str, *upstream: str, code: str = "", line: int = 1) -> Node:
    file = f"models/{name.replace('.', '/')}.sql"
    deps = tuple(Dependency(ref(u), Location(file, line + i, 6)) for i, u in enumerate(upstream))
    return Node(
        ref=ref(name),
        language="sql",
        location=Location(file, 1),
        config=ModelConfig(),
        depends_on=deps,
        code=code or f"SELECT '{name}'",
    )


def graph_error(nodes: list[Node]) -> ModelError:
    with pytest.raises(ModelError) as caught:
        build_graph(nodes, LAYERS)
    return caught.value


DIAMOND = [
    node("bronze.raw"),
    node("silver.left", "bronze.raw"),
    node("silver.right", "bronze.raw"),
    node("gold.both", "silver.left", "silver.right"),
    node("gold.alone"),
]


def names(refs: Iterable[TableRef]) -> list[str]:
    """A set's names sorted, a sequence's in its order."""
    texts = [str(r) for r in refs]
    return sorted(texts) if isinstance(refs, set) else texts


# -- order and closures ---------------------------------------------------------------------


def test_order_is_layer_rank_then_name_whatever_the_input_order() -> None:
    orders = {build_graph(list(p), LAYERS).order for p in itertools.permutations(DIAMOND)}

    assert len(orders) == 1
    assert names(orders.pop()) == [
        "bronze.raw",
        "silver.left",
        "silver.right",
        "gold.alone",
        "gold.both",
    ]


def test_layer_rank_comes_from_the_declared_layers_not_the_alphabet() -> None:
    graph = build_graph([node("gold.a"), node("bronze.z"), node("silver.m")], LAYERS)

    assert names(graph.order) == ["bronze.z", "silver.m", "gold.a"]


def test_undeclared_layers_sort_after_declared_ones() -> None:
    graph = build_graph([node("zeta.a"), node("alpha.b"), node("gold.c")], LAYERS)

    assert names(graph.order) == ["gold.c", "alpha.b", "zeta.a"]


def test_a_dependency_always_comes_before_its_reader() -> None:
    graph = build_graph([node("bronze.late", "gold.early"), node("gold.early")], LAYERS)

    assert names(graph.order) == ["gold.early", "bronze.late"]


def test_upstream_and_downstream_closures_exclude_the_start() -> None:
    graph = build_graph(DIAMOND, LAYERS)

    assert names(graph.upstream_of([ref("gold.both")])) == [
        "bronze.raw",
        "silver.left",
        "silver.right",
    ]
    assert names(graph.upstream_of([ref("silver.left")])) == ["bronze.raw"]
    assert names(graph.downstream_of([ref("bronze.raw")])) == [
        "gold.both",
        "silver.left",
        "silver.right",
    ]
    assert names(graph.downstream_of([ref("silver.right")])) == ["gold.both"]
    assert graph.downstream_of([ref("gold.alone")]) == set()
    assert graph.upstream_of([]) == set()


def test_downstream_edges_and_len() -> None:
    graph = build_graph(DIAMOND, LAYERS)

    assert graph.downstream[ref("bronze.raw")] == (ref("silver.left"), ref("silver.right"))
    assert graph.downstream[ref("gold.both")] == ()
    assert len(graph) == 5
    assert graph[ref("gold.both")].upstream == (ref("silver.left"), ref("silver.right"))


# -- validation -----------------------------------------------------------------------------


def test_two_node_cycle_names_the_path_at_the_reference() -> None:
    error = graph_error([node("gold.a", "gold.b", line=3), node("gold.b", "gold.a")])

    assert error.message == "dependency cycle: gold.a ← gold.b ← gold.a"
    assert error.location == Location("models/gold/a.sql", 3, 6)
    assert error.hint == "a model cannot read, directly or indirectly, from itself; break the cycle"


def test_longer_cycle_behind_a_tail_names_only_the_cycle() -> None:
    error = graph_error(
        [
            node("bronze.ok"),
            node("silver.tail", "silver.x"),
            node("silver.x", "silver.y", "bronze.ok"),
            node("silver.y", "silver.z"),
            node("silver.z", "silver.x"),
        ]
    )

    assert error.message == "dependency cycle: silver.x ← silver.y ← silver.z ← silver.x"


def test_a_model_reading_itself_is_a_cycle() -> None:
    error = graph_error([node("gold.me", "gold.me")])

    assert error.message == "dependency cycle: gold.me ← gold.me"


def test_cycle_between_project_files_points_into_the_sql(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/a.sql": "SELECT *\nFROM gold.b\n",
            "models/gold/b.sql": "SELECT * FROM gold.a\n",
        }
    )

    error = starter.error(ModelError)

    assert error.message == "dependency cycle: gold.a ← gold.b ← gold.a"
    assert error.location is not None
    assert (error.location.file, error.location.line) == (starter.path("models/gold/a.sql"), 2)


def test_duplicate_nodes() -> None:
    error = graph_error([node("gold.a"), node("gold.a", "gold.b")])

    assert error.message == "table `gold.a` is defined twice (first at models/gold/a.sql:1)"
    assert error.location == Location("models/gold/a.sql", 1)


def test_unknown_reference_suggests_up_to_three_close_names() -> None:
    error = graph_error(
        [
            node("silver.order"),
            node("silver.orders"),
            node("silver.orderz"),
            node("silver.ordered"),
            node("gold.x", "silver.ordrs", line=7),
        ]
    )

    assert error.message == "`gold.x` reads unknown table `silver.ordrs`"
    assert error.location == Location("models/gold/x.sql", 7, 6)
    assert error.hint == "did you mean `silver.orders` or `silver.order` or `silver.orderz`?"


# -- resolve / suggest ----------------------------------------------------------------------


def test_resolve_parses_and_checks_the_name() -> None:
    graph = build_graph(DIAMOND, LAYERS)

    assert graph.resolve(" Silver.Left ") == ref("silver.left")
    with pytest.raises(ModelError) as caught:
        graph.resolve("silver.lef")
    assert caught.value.message == "unknown table `silver.lef`"
    assert caught.value.hint == "did you mean `silver.left` or `silver.right`?"
    with pytest.raises(ModelError, match="invalid table reference 'left'"):
        graph.resolve("left")


def test_suggest_without_close_match_lists_known_tables_up_to_twenty() -> None:
    small = build_graph(DIAMOND, LAYERS)
    big = build_graph([node(f"silver.t{i:02}") for i in range(25)], LAYERS)

    assert small.suggest("nothing.like") == (
        "known tables: bronze.raw, gold.alone, gold.both, silver.left, silver.right"
    )
    listed = ", ".join(f"silver.t{i:02}" for i in range(20))
    assert big.suggest("zzz") == f"known tables: {listed} ..."


# -- fingerprints ---------------------------------------------------------------------------


def fingerprints(nodes: list[Node]) -> dict[str, str]:
    return {str(r): f for r, f in build_graph(nodes, LAYERS).fingerprints.items()}


def test_fingerprints_are_short_hex_and_stable_across_builds() -> None:
    first, second = fingerprints(DIAMOND), fingerprints(list(reversed(DIAMOND)))

    assert first == second
    assert set(first) == {str(n.ref) for n in DIAMOND}
    assert all(len(f) == 16 and int(f, 16) >= 0 for f in first.values())
    assert len(set(first.values())) == 5


def test_a_code_change_propagates_downstream_only() -> None:
    before = fingerprints(DIAMOND)
    changed = [
        node("silver.left", "bronze.raw", code="SELECT 2") if n.name == "silver.left" else n
        for n in DIAMOND
    ]

    after = fingerprints(changed)

    assert {k for k in before if before[k] != after[k]} == {"silver.left", "gold.both"}


def test_project_sql_change_moves_its_fingerprint_and_downstream_ones(
    starter: ProjectTree,
) -> None:
    before = starter.graph().fingerprints
    starter.write({"models/silver/orders.sql": "SELECT order_id, customer_id FROM bronze.orders\n"})

    after = starter.graph().fingerprints

    assert sorted(str(r) for r in before if before[r] != after[r]) == [
        "gold.monthly_revenue",
        "gold.revenue_by_state",
        "silver.orders",
    ]


def test_whitespace_comment_and_keyword_case_changes_keep_fingerprints(
    starter: ProjectTree,
) -> None:
    before = starter.graph().fingerprints
    starter.write(
        {
            "models/silver/orders.sql": """\
        /* @config
        description: Orders with typed amounts (decimal commas parsed) and dates.
        */
        -- the orders, typed
        select   CAST(order_id AS INTEGER) AS order_id,   -- the key
                 cast(customer_id as integer) as customer_id,
            CAST(replace(amount, ',', '.') AS DECIMAL(18, 2)) AS amount,
            /* a date */ CAST(ordered_at AS DATE) AS ordered_at
        from bronze.orders
        """
        }
    )

    assert starter.graph().fingerprints == before


def test_description_and_column_docs_do_not_change_fingerprints(starter: ProjectTree) -> None:
    before = starter.graph().fingerprints
    starter.write(
        {
            "models/silver/customers.sql": """\
        /* @config
        description: Something else entirely.
        tags: [pii]
        columns:
          name: {description: "Trimmed name"}
        */
        SELECT DISTINCT
            CAST(customer_id AS INTEGER) AS customer_id,
            trim(name) AS name,
            lower(email) AS email,
            upper(uf) AS uf
        FROM bronze.customers
        """
        }
    )

    assert starter.graph().fingerprints == before


def test_kind_change_changes_the_fingerprint(starter: ProjectTree) -> None:
    before = starter.graph().fingerprints
    starter.write({"models/gold/revenue_by_state.yml": "kind: view\n"})
    text = starter.path("models/gold/revenue_by_state.sql").read_text()
    starter.write({"models/gold/revenue_by_state.sql": text.split("*/", 1)[1]})

    after = starter.graph().fingerprints

    assert [str(r) for r in before if before[r] != after[r]] == ["gold.revenue_by_state"]


def test_source_config_change_moves_the_ingest_fingerprint_and_downstream(
    starter: ProjectTree,
) -> None:
    before = starter.graph().fingerprints
    yml = starter.path("afluente.yml")
    yml.write_text(yml.read_text().replace('{delimiter: ";"}', '{delimiter: "|"}'))

    after = starter.graph().fingerprints

    assert sorted(str(r) for r in before if before[r] != after[r]) == [
        "bronze.orders",
        "gold.monthly_revenue",
        "gold.revenue_by_state",
        "silver.orders",
    ]


def test_a_streams_event_time_policy_rebuilds_nothing_but_combine_does() -> None:
    """The watermark, late-data and de-duplication keys apply from the next micro-batch;
    `combine` changes what the stored values mean."""
    base = node("gold.w", code="SELECT 1 AS k, 2 AS n")

    def printed(**config: object) -> str:
        merged = ModelConfig.model_validate({"kind": "merge", "unique_key": "k", **config})
        return fingerprints([replace(base, config=merged)])["gold.w"]

    plain = printed()
    assert printed(event_time="ts", watermark="10 minutes", late_data="apply",
                   dedup_keys="k") == plain
    assert printed(combine={"n": "sum"}) != plain
