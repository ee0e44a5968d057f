"""The SQL parse cache gives exactly the graph a fresh parse gives, and never hides errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.errors import ModelError
from afluente.model import load_graph


@pytest.fixture
def root(tmp_path: Path) -> Path:
    scaffold(tmp_path / "p")
    return tmp_path / "p"


def _shape(root: Path, cache: bool) -> object:
    graph = load_graph(load_project(root), cache=cache)
    return (
        graph.order,
        graph.fingerprints,
        {ref: node.depends_on for ref, node in graph.nodes.items()},
    )


def test_cached_graph_equals_fresh_graph(root: Path) -> None:
    fresh = _shape(root, cache=False)
    assert not (root / ".afluente/cache/sql-parse.json").exists()
    first = _shape(root, cache=True)
    assert (root / ".afluente/cache/sql-parse.json").is_file()
    second = _shape(root, cache=True)  # served from the cache
    assert fresh == first == second


def test_edited_model_is_parsed_again(root: Path) -> None:
    load_graph(load_project(root))
    model = root / "models/gold/revenue_by_state.sql"
    model.write_text(model.read_text().replace("FROM silver.orders", "FROM silver.ordrs"))
    with pytest.raises(ModelError, match=r"reads unknown table `silver\.ordrs`") as error:
        load_graph(load_project(root))
    assert error.value.location is not None
    assert error.value.location.line == 6


def test_syntax_errors_are_reported_every_time(root: Path) -> None:
    model = root / "models/silver/orders.sql"
    model.write_text("SELECT FROM WHERE (\n")
    for _ in range(2):
        with pytest.raises(ModelError, match="SQL syntax error"):
            load_graph(load_project(root))


def test_damaged_cache_is_ignored(root: Path) -> None:
    expected = _shape(root, cache=False)
    cache = root / ".afluente/cache/sql-parse.json"
    cache.parent.mkdir(parents=True)
    cache.write_text("{not json")
    assert _shape(root, cache=True) == expected
