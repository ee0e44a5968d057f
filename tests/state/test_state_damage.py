"""A damaged SQLite state store is refused, never silently recreated; the tables stay
readable without it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from afluente.cli.app import _register, app
from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.errors import StateError
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.state import StateStore, default_url
from afluente.storage import Warehouse

_register()

ORDERS = TableRef("silver", "orders")


def state_file(root: Path) -> Path:
    return root / ".afluente" / "state.db"


def test_an_emptied_store_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    url = default_url(tmp_path)
    with StateStore.open(url) as store:
        store.start_run("r1", "shop", None, {})
    state_file(tmp_path).write_bytes(b"")

    with pytest.raises(StateError) as caught:
        StateStore.open(url)

    path = state_file(tmp_path)
    assert caught.value.message == (
        f"state store sqlite:///{path} is an empty file (0 bytes): the run history it held "
        "is gone, and afluente will not silently start a new one over it"
    )
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("restore state.db from a backup; to start an empty "
                                        f"history instead, move it aside (mv {path} {path}.empty)")
    assert path.stat().st_size == 0  # not migrated into a new, empty history


def test_a_garbled_store_says_how_to_salvage_it(tmp_path: Path) -> None:
    state_file(tmp_path).parent.mkdir(parents=True)
    state_file(tmp_path).write_bytes(b"these bytes are no SQLite database\n" * 200)

    with pytest.raises(StateError) as caught:
        StateStore.open(default_url(tmp_path))

    assert caught.value.message.endswith("could not open the store: file is not a database")
    assert "sqlite3 state.db .recover | sqlite3 recovered.db" in (caught.value.hint or "")


def test_a_new_store_appears_whole_under_its_name(tmp_path: Path) -> None:
    with StateStore.open(default_url(tmp_path)) as store:
        store.start_run("r1", "shop", None, {})
        assert [r.run_id for r in store.list_runs()] == ["r1"]
    assert sorted(p.name for p in state_file(tmp_path).parent.iterdir()) == ["state.db"]


@pytest.fixture(scope="module")
def emptied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The starter project, built, whose state.db was then truncated to 0 bytes."""
    root = tmp_path_factory.mktemp("damaged") / "shop"
    scaffold(root)
    assert run_project(load_project(root)).status == "success"
    state_file(root).write_bytes(b"")
    return root


def invoke(root: Path, *args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, ["-p", str(root), "--json", *args])
    error = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, result.stdout, error


def test_tables_stay_readable_without_the_state_store(emptied: Path) -> None:
    code, shown, _ = invoke(emptied, "show", "silver.orders")
    assert code == 0 and sorted(r["order_id"] for r in json.loads(shown)) == [10, 11, 12, 13]

    code, history, _ = invoke(emptied, "history", "silver.orders")
    assert code == 0 and [h["version"] for h in json.loads(history)] == [0]

    code, counted, _ = invoke(emptied, "query", "SELECT count(*) AS n FROM silver.orders")
    assert code == 0 and json.loads(counted) == [{"n": 4}]
    assert state_file(emptied).stat().st_size == 0


@pytest.mark.parametrize("args", [["runs"], ["run"], ["query", "SELECT * FROM afluente.runs"]],
                         ids=["runs", "run", "query-state"])
def test_what_needs_the_state_store_says_why_it_cannot(emptied: Path, args: list[str]) -> None:
    _, _, error = invoke(emptied, *args)

    assert isinstance(error, StateError)
    assert "is an empty file (0 bytes): the run history it held is gone" in error.message
    if args[0] == "query":
        assert error.message.startswith("the query reads afluente.runs, but state store ")
    assert "`afluente show`, `history` and `query` still read them" in (error.hint or "")
    assert Warehouse(load_project(emptied).warehouse_uri).version(ORDERS) == 0  # untouched
    assert state_file(emptied).stat().st_size == 0
