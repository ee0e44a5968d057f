"""The stdlib read of runs (`afluente runs` without SQLAlchemy) gives the store's own records,
and steps aside (None) whenever only the store can answer the same way."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from afluente.cli.app import _register, app
from afluente.cli.scaffold import scaffold
from afluente.errors import StateError
from afluente.state import StateStore, default_url
from afluente.state.sqlite_read import read_recent_runs, read_run

_register()


def state_file(root: Path) -> Path:
    return root / ".afluente" / "state.db"


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A store with three runs: one finished with models, one partial, one still running
    (this process)."""
    url = default_url(tmp_path)
    with StateStore.open(url) as store:
        store.start_run("20260101T000000-aaaa01", "shop", "silver.orders+",
                        {"full_refresh": True, "workers": 2})
        store.start_model_run("20260101T000000-aaaa01", "silver.orders", "f1")
        store.finish_model_run("20260101T000000-aaaa01", "silver.orders", "success",
                               rows_written=12, versions_read={"bronze.orders": 3},
                               version_written=4, attempts=2)
        store.finish_model_run("20260101T000000-aaaa01", "gold.daily", "skipped",
                               error="upstream failed")
        store.finish_run("20260101T000000-aaaa01", "success")
        store.start_run("20260101T000000-bbbb02", "shop", None, {})
        store.finish_run("20260101T000000-bbbb02", "partial", "1 model failed: ü ✓")
        store.start_run("20260102T000000-cccc03", "shop", None, {"note": [1, None]})
    return url


def test_recent_runs_are_the_stores_records(url: str) -> None:
    with StateStore.open(url) as store:
        for limit in (20, 2, 0):
            assert read_recent_runs(url, limit) == store.list_runs(limit)
        assert read_run(url, "20260101T000000-aaaa01") == store.get_run("20260101T000000-aaaa01")
        assert read_run(url, "20260102") == store.get_run("20260102")  # unique prefix
    listed = read_recent_runs(url, 20)
    assert listed is not None and [r.run_id for r in listed] == [
        "20260102T000000-cccc03", "20260101T000000-bbbb02", "20260101T000000-aaaa01"]
    assert [m.model for m in listed[2].models] == ["silver.orders", "gold.daily"]
    assert listed[2].models[0].started_at is not None
    assert listed[2].models[0].started_at.tzinfo is not None


@pytest.mark.parametrize("run_id", ["", "nope", "20260101"], ids=["empty", "unknown", "ambiguous"])
def test_a_run_id_the_store_would_refuse_is_left_to_it(url: str, run_id: str) -> None:
    assert read_run(url, run_id) is None


def test_a_dead_running_run_is_left_to_the_store_to_reap(url: str) -> None:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        db.execute("UPDATE runs SET pid = ? WHERE run_id = '20260102T000000-cccc03'",
                   (dead_pid(),))
    assert read_recent_runs(url, 20) is None
    assert read_run(url, "20260101T000000-aaaa01") is None


def test_an_older_schema_is_left_to_the_store_to_migrate(url: str) -> None:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        db.execute("UPDATE afluente_state_version SET version_num = '0003'")
    assert read_recent_runs(url, 20) is None


@pytest.mark.parametrize("content", [None, b"", b"these bytes are no SQLite database\n" * 200],
                         ids=["missing", "emptied", "garbled"])
def test_a_missing_or_damaged_file_is_left_to_the_store(tmp_path: Path,
                                                         content: bytes | None) -> None:
    path = state_file(tmp_path)
    if content is not None:
        path.parent.mkdir(parents=True)
        path.write_bytes(content)
    assert read_recent_runs(default_url(tmp_path), 20) is None
    assert read_run(default_url(tmp_path), "r1") is None
    if content is None:
        assert not path.exists()  # not created: that is the store's job, migrated
    else:
        assert path.read_bytes() == content  # untouched


@pytest.mark.parametrize("other", ["postgresql://user@host/db", "sqlite://", "sqlite:///:memory:",
                                   "sqlite:///state.db?mode=ro"])
def test_other_urls_are_left_to_the_store(other: str) -> None:
    assert read_recent_runs(other, 20) is None


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    scaffold(root)
    return root


def runs_cli(root: Path, *args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, ["-p", str(root), "--json", "runs", *args])
    error = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, result.stdout, error


def test_runs_marks_a_dead_run_failed_before_listing(project: Path) -> None:
    with StateStore.open(default_url(project)) as store:
        store.start_run("r-dead", "shop", None, {})
    with sqlite3.connect(state_file(project)) as db:
        db.execute("UPDATE runs SET pid = ? WHERE run_id = 'r-dead'", (dead_pid(),))

    code, shown, _ = runs_cli(project)

    assert code == 0 and '"status": "failed"' in shown
    with StateStore.open(default_url(project)) as store:
        failed = store.get_run("r-dead")
    assert failed.status == "failed"
    assert failed.error is not None and "noticed by `afluente runs`" in failed.error


def test_runs_names_an_unknown_run_as_the_store_does(project: Path) -> None:
    with StateStore.open(default_url(project)) as store:
        store.start_run("20260101T000000-aaaa01", "shop", None, {})
        store.finish_run("20260101T000000-aaaa01", "success")

    code, _, error = runs_cli(project, "20260101T000000-aaaa02")

    assert code == 1 and isinstance(error, StateError)
    assert error.message.startswith("no run with id '20260101T000000-aaaa02' in sqlite:///")
    assert error.hint == "did you mean 20260101T000000-aaaa01?"


def test_runs_on_a_project_without_a_store_creates_it(project: Path) -> None:
    code, shown, _ = runs_cli(project)
    assert code == 0 and shown.strip() == "[]"
    assert state_file(project).stat().st_size > 0
