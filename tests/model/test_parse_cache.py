"""The SQL parse cache gives exactly the graph a fresh parse gives, and never hides errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.errors import AfluenteError, ModelError
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


def _configs(root: Path, cache: bool) -> object:
    graph = load_graph(load_project(root), cache=cache)
    return {ref: (node.config, node.config_doc) for ref, node in graph.nodes.items()}


def test_cached_headers_give_the_same_config_and_key_lines(root: Path) -> None:
    model = root / "models/silver/dated.sql"
    model.write_text(
        "/* @config\ndescription: dated\n"
        "expectations: [{between: {column: order_date, min: 2024-01-31, max: 2030-01-01}}]\n*/\n"
        "SELECT * FROM silver.orders\n"
    )
    fresh = _configs(root, cache=False)
    _configs(root, cache=True)
    entries = json.loads((root / ".afluente/cache/sql-parse.json").read_text())["entries"]
    headers = [e for e in entries.values() if "header" in e]
    # every header is kept but the one whose YAML a JSON file cannot give back as it was
    assert len(headers) == len(entries) - 1 - sum(1 for e in entries.values() if "code" not in e)
    assert _configs(root, cache=True) == fresh


def test_an_error_in_a_cached_header_keeps_its_line(root: Path) -> None:
    model = root / "models/silver/orders.sql"
    text = model.read_text()
    load_graph(load_project(root))  # the header is cached
    model.write_text(text.replace("/* @config\n", "/* @config\nkind: fulll\n", 1))
    for _ in range(2):
        with pytest.raises(AfluenteError, match="fulll") as error:
            load_graph(load_project(root))
        assert error.value.location is not None
        assert error.value.location.line == 2
