"""The graph pages' layered layout: groups (layers) left to right, ranks inside a group by
the longest path, rows ordered by the upstream nodes' rows."""

from __future__ import annotations

from afluente.server.ui.gantt import timeline
from afluente.server.ui.layout import COLUMN_W, NODE_W, layered


def test_layers_left_to_right_and_ranks_inside_a_layer() -> None:
    nodes = ["gold.f", "silver.b", "bronze.a", "silver.c", "bronze.z"]
    edges = [("bronze.a", "silver.b"), ("silver.b", "silver.c"), ("silver.c", "gold.f"),
             ("bronze.z", "gold.f")]
    found = layered(nodes, edges, lambda n: n.split(".")[0], ["bronze", "silver", "gold"])
    column = {n: p.column for n, p in found.nodes.items()}
    assert column == {"bronze.a": 0, "bronze.z": 0, "silver.b": 1, "silver.c": 2, "gold.f": 3}
    assert [g for g, _ in found.groups] == ["bronze", "silver", "gold"]
    assert dict(found.groups)["gold"] == found.nodes["gold.f"].x
    assert found.width == found.nodes["gold.f"].x + NODE_W + 24
    assert len(found.edges) == 4
    edge = next(e for e in found.edges if e.source.id == "bronze.a")
    assert edge.path.startswith(f"M{found.nodes['bronze.a'].x + NODE_W},")


def test_rows_follow_their_upstream_and_an_empty_layer_takes_no_room() -> None:
    nodes = ["raw.a", "raw.b", "out.y", "out.x"]
    edges = [("raw.a", "out.x"), ("raw.b", "out.y")]
    found = layered(nodes, edges, lambda n: n.split(".")[0], ["raw", "middle", "out"])
    assert found.nodes["out.x"].row == found.nodes["raw.a"].row == 0
    assert found.nodes["out.y"].row == found.nodes["raw.b"].row == 1
    assert found.nodes["out.x"].x - found.nodes["raw.a"].x == COLUMN_W
    assert [g for g, _ in found.groups] == ["raw", "out"]


def test_a_thousand_nodes_get_distinct_places() -> None:
    nodes = [f"l{i % 4}.m{i}" for i in range(1000)]
    edges = [(nodes[i - 4], nodes[i]) for i in range(4, 1000)]
    found = layered(nodes, edges, lambda n: n.split(".")[0], ["l0", "l1", "l2", "l3"])
    places = {(p.column, p.row) for p in found.nodes.values()}
    assert len(places) == 1000 and len(found.edges) == 996


def test_timeline_bars_share_one_scale() -> None:
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 1, 1, tzinfo=UTC)
    models = [
        {"model": "b", "status": "success", "started_at": start + timedelta(seconds=2),
         "finished_at": start + timedelta(seconds=4)},
        {"model": "a", "status": "success", "started_at": start,
         "finished_at": start + timedelta(seconds=2)},
        {"model": "c", "status": "up_to_date", "started_at": None,
         "finished_at": start + timedelta(seconds=4)},
    ]
    found = timeline(models, start)
    assert [b.model for b in found.bars] == ["a", "b", "c"]
    a, b, c = found.bars
    assert found.span_s == 4.0 and a.seconds == b.seconds == 2.0 and c.seconds is None
    assert a.width == b.width and b.x == a.x + a.width and c.x == b.x + b.width
