"""The state store against SQLite (a temp dir) and a real PostgreSQL server."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from afluente.errors import StateError
from afluente.state import Event, StateStore, default_url
from afluente.state.migrate import VERSION_TABLE, head_revision
from afluente.state.schema import metadata
from conftest import require_component


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)],
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return default_url(tmp_path / "project")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[StateStore]:
    with StateStore.open(store_url) as opened:
        yield opened


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return default_url(tmp_path / "project")


def record_run(store: StateStore, run_id: str) -> None:
    """A run of three models: one succeeds, one fails, one is skipped without starting."""
    store.start_run(run_id, "shop", "silver.orders+", {"full_refresh": False, "vars": {"d": 1}})
    store.start_model_run(run_id, "bronze.orders", "fp-bronze")
    store.finish_model_run(
        run_id,
        "bronze.orders",
        "success",
        rows_written=120,
        versions_read={"landing.orders": 3},
        version_written=7,
    )
    store.start_model_run(run_id, "silver.orders", "fp-silver")
    store.finish_model_run(run_id, "silver.orders", "failed", error="boom")
    store.finish_model_run(run_id, "gold.sales", "skipped")
    store.finish_run(run_id, "partial", error="1 model failed")


# -- lifecycle (SQLite and PostgreSQL) ---------------------------------------------------------


def test_run_lifecycle_round_trips(store: StateStore) -> None:
    record_run(store, "20250301T101500-a1b2")

    run = store.get_run("20250301T101500-a1b2")

    assert (run.project, run.status, run.selector, run.error) == (
        "shop",
        "partial",
        "silver.orders+",
        "1 model failed",
    )
    assert run.args == {"full_refresh": False, "vars": {"d": 1}}
    assert run.started_at.tzinfo is UTC
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert [(m.model, m.status) for m in run.models] == [
        ("bronze.orders", "success"),
        ("silver.orders", "failed"),
        ("gold.sales", "skipped"),
    ]
    bronze, silver, gold = run.models
    assert bronze.rows_written == 120
    assert bronze.versions_read == {"landing.orders": 3}
    assert bronze.version_written == 7
    assert bronze.fingerprint == "fp-bronze"
    assert bronze.duration_s is not None and bronze.duration_s >= 0
    assert bronze.started_at is not None and bronze.started_at.tzinfo is UTC
    assert (silver.error, silver.versions_read, silver.version_written) == ("boom", {}, None)
    assert (gold.started_at, gold.duration_s, gold.fingerprint) == (None, None, None)
    assert gold.finished_at is not None


def test_finish_model_runs_records_many_models_in_one_call(store: StateStore) -> None:
    store.start_run("run-1", "shop", None, {})
    store.start_model_run("run-1", "silver.orders", "fp")  # e.g. a resumed run's model
    names = [f"gold.t{i:04d}" for i in range(1200)] + ["silver.orders"]  # > one IN chunk

    store.finish_model_runs("run-1", names, "up_to_date")

    models = {m.model: m for m in store.get_run("run-1").models}
    assert sorted(models) == sorted(names)
    assert {m.status for m in models.values()} == {"up_to_date"}
    fresh = models["gold.t1199"]
    assert (fresh.started_at, fresh.duration_s, fresh.versions_read) == (None, None, {})
    assert fresh.finished_at is not None
    resumed = models["silver.orders"]
    assert resumed.fingerprint == "fp" and resumed.duration_s is not None


def test_finish_model_runs_of_an_unknown_run_names_it(store: StateStore) -> None:
    with pytest.raises(StateError, match="run 'nope' was never started") as error:
        store.finish_model_runs("nope", ["gold.sales"], "up_to_date")
    assert error.value.hint == "call start_run() before recording its models"


def test_list_runs_is_newest_first_with_models(store: StateStore) -> None:
    for run_id in ("run-1", "run-2", "run-3"):
        store.start_run(run_id, "shop", None, {})
    store.finish_model_run("run-2", "gold.sales", "up_to_date")
    store.finish_run("run-3", "success")

    runs = store.list_runs()

    assert [r.run_id for r in runs] == ["run-3", "run-2", "run-1"]
    assert [r.status for r in runs] == ["success", "running", "running"]
    assert [m.model for m in runs[1].models] == ["gold.sales"]
    assert [r.run_id for r in store.list_runs(limit=2)] == ["run-3", "run-2"]


def test_get_run_accepts_a_unique_prefix(store: StateStore) -> None:
    store.start_run("20250301-aaaa", "shop", None, {})
    store.start_run("20250301-abcd", "shop", None, {})

    assert store.get_run("20250301-ab").run_id == "20250301-abcd"
    with pytest.raises(StateError, match="matches several runs") as error:
        store.get_run("20250301-a")
    assert "20250301-aaaa" in str(error.value) and "20250301-abcd" in str(error.value)


def test_get_run_prefix_with_like_wildcards_matches_literally(store: StateStore) -> None:
    store.start_run("run_1", "shop", None, {})
    store.start_run("runX1", "shop", None, {})

    assert store.get_run("run_").run_id == "run_1"


def test_unknown_run_id_names_it_and_suggests_close_ids(store: StateStore) -> None:
    store.start_run("20250301-abcd", "shop", None, {})

    with pytest.raises(StateError) as error:
        store.get_run("20250301-abce")

    assert error.value.run_id == "20250301-abce"
    assert "no run with id '20250301-abce'" in error.value.message
    assert error.value.hint == "did you mean 20250301-abcd?"


def test_unknown_run_id_lists_recent_runs_when_nothing_is_close(store: StateStore) -> None:
    store.start_run("20250301-abcd", "shop", None, {})

    with pytest.raises(StateError) as error:
        store.get_run("zz")

    assert error.value.hint is not None
    assert "recent runs: 20250301-abcd" in error.value.hint


def test_unknown_run_id_in_an_empty_store(store: StateStore) -> None:
    with pytest.raises(StateError, match="no run with id 'nope'") as error:
        store.get_run("nope")
    assert error.value.hint is not None and "no run has been recorded yet" in error.value.hint


def test_events_are_chronological_filtered_and_limited(store: StateStore) -> None:
    store.start_run("r1", "shop", None, {})
    base = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    store.emit(Event("run_started", run_id="r1", ts=base))
    store.emit(
        Event(
            "model_finished",
            run_id="r1",
            model="silver.orders",
            level="warning",
            payload={"rows": 3, "tables": ["a", "b"]},
            ts=base + timedelta(seconds=2),
        )
    )
    # An event stamped in another zone is stored and returned in UTC.
    sao_paulo = timezone(timedelta(hours=-3))
    store.emit(
        Event("run_finished", run_id="r1", ts=datetime(2025, 3, 1, 9, 0, 5, tzinfo=sao_paulo))
    )
    store.emit(Event("store_compacted"))

    events = store.events("r1")

    assert [e.type for e in events] == ["run_started", "model_finished", "run_finished"]
    assert events[1] == Event(
        "model_finished",
        run_id="r1",
        model="silver.orders",
        level="warning",
        payload={"rows": 3, "tables": ["a", "b"]},
        ts=base + timedelta(seconds=2),
    )
    assert events[2].ts == base + timedelta(seconds=5)
    assert events[2].ts is not None and events[2].ts.tzinfo is UTC
    assert [e.type for e in store.events("r1", limit=2)] == ["model_finished", "run_finished"]
    assert len(store.events()) == 4
    unstamped = store.events(limit=1)[0]
    assert (unstamped.type, unstamped.run_id, unstamped.payload) == ("store_compacted", None, {})
    assert unstamped.ts is not None and unstamped.ts.tzinfo is UTC


def test_to_arrow_has_typed_columns_and_values(store: StateStore) -> None:
    record_run(store, "r1")
    store.emit(Event("run_started", run_id="r1", payload={"k": "v"}))

    runs = store.to_arrow("runs")
    model_runs = store.to_arrow("model_runs")
    events = store.to_arrow("events")

    utc_ts = pa.timestamp("us", tz="UTC")
    assert runs.schema.field("started_at").type == utc_ts
    assert runs.schema.field("args").type == pa.string()
    assert runs.schema.field("pid").type == pa.int64()
    assert runs.column("run_id").to_pylist() == ["r1"]
    assert runs.column("args").to_pylist() == ['{"full_refresh": false, "vars": {"d": 1}}']
    assert runs.column("status").to_pylist() == ["partial"]
    assert model_runs.schema.field("duration_s").type == pa.float64()
    assert model_runs.schema.field("version_written").type == pa.int64()
    assert model_runs.schema.field("finished_at").type == utc_ts
    by_model = {row["model"]: row for row in model_runs.to_pylist()}
    assert by_model["bronze.orders"]["versions_read"] == '{"landing.orders": 3}'
    assert by_model["bronze.orders"]["rows_written"] == 120
    assert by_model["gold.sales"]["started_at"] is None
    assert events.schema.field("ts").type == utc_ts
    assert events.column("payload").to_pylist() == ['{"k": "v"}']
    assert events.column("id").type == pa.int64()


def test_a_retried_model_restarts_cleanly(store: StateStore) -> None:
    store.start_run("r1", "shop", None, {})
    store.start_model_run("r1", "silver.orders", "fp-1")
    store.finish_model_run("r1", "silver.orders", "failed", error="timeout")
    store.start_model_run("r1", "silver.orders", "fp-2")

    (model,) = store.get_run("r1").models

    assert (model.status, model.error, model.finished_at, model.fingerprint) == (
        "running",
        None,
        None,
        "fp-2",
    )


def test_reopening_migrates_idempotently(store_url: str) -> None:
    with StateStore.open(store_url) as first:
        first.start_run("r1", "shop", None, {})
    with StateStore.open(store_url) as second:
        assert [r.run_id for r in second.list_runs()] == ["r1"]


def test_migrations_build_exactly_the_declared_schema(store: StateStore, store_url: str) -> None:
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_bad_input_is_a_state_error(store: StateStore) -> None:
    store.start_run("r1", "shop", None, {})

    with pytest.raises(StateError, match="run 'r1' already exists"):
        store.start_run("r1", "shop", None, {})
    with pytest.raises(StateError, match="run status 'done' is not valid") as error:
        store.finish_run("r1", "done")  # type: ignore[arg-type]
    assert error.value.hint == "use one of: success, failed, partial"
    with pytest.raises(StateError, match="model status 'pending' is not valid"):
        store.finish_model_run("r1", "m.x", "pending")
    with pytest.raises(StateError, match="event level 'debug' is not valid"):
        store.emit(Event("x", level="debug"))  # type: ignore[arg-type]
    with pytest.raises(StateError, match="integer Delta versions"):
        store.finish_model_run("r1", "m.x", "success", versions_read={"a.b": "3"})  # type: ignore[dict-item]
    with pytest.raises(StateError, match="run 'nope' was never started"):
        store.start_model_run("nope", "silver.orders", "fp")
    with pytest.raises(StateError, match="no run with id 'nope'"):
        store.finish_run("nope", "success")
    with pytest.raises(StateError, match="state table 'jobs' is not valid"):
        store.to_arrow("jobs")  # type: ignore[arg-type]
    assert store.get_run("r1").models == ()


def test_a_closed_store_says_so(store_url: str) -> None:
    store = StateStore.open(store_url)
    store.close()
    with pytest.raises(StateError, match="is closed"):
        store.list_runs()


_CONCURRENT_OPENER = """
import sys
from afluente.state import Event, StateStore
store = StateStore.open(sys.argv[1])
run_id = "proc-" + sys.argv[2]
store.start_run(run_id, "shop", None, {})
for i in range(20):
    store.emit(Event("tick", run_id=run_id, payload={"i": i}))
store.finish_run(run_id, "success")
store.close()
"""


def test_processes_opening_a_new_store_at_once_all_succeed(store_url: str) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CONCURRENT_OPENER, store_url, str(n)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    outcomes = [(p.communicate()[1], p.returncode) for p in procs]
    errors = [stderr for stderr, code in outcomes if code != 0]

    assert errors == []
    with StateStore.open(store_url) as store:
        assert sorted(r.run_id for r in store.list_runs()) == [f"proc-{n}" for n in range(4)]
        assert len(store.events()) == 80


# -- SQLite specifics ---------------------------------------------------------------------------


def test_sqlite_store_creates_its_folder_in_wal_mode(tmp_path: Path) -> None:
    url = default_url(tmp_path / "project")
    assert url == f"sqlite:///{tmp_path / 'project' / '.afluente' / 'state.db'}"

    StateStore.open(url).close()

    db = sqlite3.connect(tmp_path / "project" / ".afluente" / "state.db")
    try:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        version = db.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
        assert version == [(head_revision(),)]
    finally:
        db.close()


def test_two_stores_on_one_file_see_each_other(sqlite_url: str) -> None:
    with StateStore.open(sqlite_url) as writer, StateStore.open(sqlite_url) as reader:
        writer.start_run("r1", "shop", None, {})
        reader.start_model_run("r1", "bronze.orders", "fp")
        writer.finish_model_run("r1", "bronze.orders", "success", rows_written=1)
        reader.finish_run("r1", "success")

        assert writer.get_run("r1") == reader.get_run("r1")
        assert reader.get_run("r1").models[0].rows_written == 1


def test_in_memory_sqlite_works() -> None:
    with StateStore.open("sqlite://") as store:
        record_run(store, "r1")
        assert store.get_run("r1").status == "partial"


def test_a_store_from_a_newer_afluente_is_refused(sqlite_url: str) -> None:
    StateStore.open(sqlite_url).close()
    db_path = sqlite_url.removeprefix("sqlite:///")
    db = sqlite3.connect(db_path)
    with db:
        db.execute(f"UPDATE {VERSION_TABLE} SET version_num = '9999'")
    db.close()

    with pytest.raises(StateError, match="schema revision '9999'") as error:
        StateStore.open(sqlite_url)
    assert error.value.hint is not None and "upgrade afluente" in error.value.hint


# -- connection errors ---------------------------------------------------------------------------


def _require_psycopg() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        require_component("psycopg", "pip install 'afluente[postgres]'")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_errors_mask_the_password() -> None:
    _require_psycopg()
    url = f"postgresql+psycopg://etl:s3cr3t-pw@127.0.0.1:{_closed_port()}/meta"

    with pytest.raises(StateError) as error:
        StateStore.open(url)

    rendered = str(error.value)
    assert "s3cr3t-pw" not in rendered
    assert f"postgresql+psycopg://etl:***@127.0.0.1:{url.split(':')[3]}" in rendered
    assert "could not open the store" in rendered
    assert error.value.hint is not None and "reachable" in error.value.hint
    assert error.value.transient


def test_a_malformed_url_says_what_a_url_looks_like() -> None:
    with pytest.raises(StateError) as error:
        StateStore.open("not a url")
    assert error.value.hint is not None and "sqlite:///" in error.value.hint


def test_a_missing_driver_names_the_package_to_install() -> None:
    with pytest.raises(StateError) as error:
        StateStore.open("postgresql+psycopg2://etl:pw@127.0.0.1/meta")
    assert "pw@" not in str(error.value)
    assert error.value.hint is not None and "afluente[postgres]" in error.value.hint


def test_a_bare_postgresql_url_uses_psycopg_3() -> None:
    _require_psycopg()
    with pytest.raises(StateError) as error:
        StateStore.open(f"postgresql://etl@127.0.0.1:{_closed_port()}/meta")
    # psycopg 3 got as far as connecting (psycopg2, the SQLAlchemy default, is not installed).
    assert "Connection refused" in error.value.message
    assert error.value.hint is not None and "reachable" in error.value.hint


def test_an_unknown_database_kind_is_a_state_error() -> None:
    with pytest.raises(StateError, match="could not open the store"):
        StateStore.open("nosuchdb://host/db")


# -- the shared fixtures -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_require_component_fails_only_in_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="widget is not available: not installed"):
        require_component("widget", "not installed")


@pytest.mark.slow
def test_postgres_url_is_a_fresh_database_each_time(postgres_url: str) -> None:
    with StateStore.open(postgres_url) as store:
        assert store.list_runs() == []
        assert "postgresql+psycopg://postgres@127.0.0.1:" in store.url


def test_last_event_is_the_newest_of_its_type_about_its_model(store_url: str) -> None:
    with StateStore.open(store_url) as store:
        assert store.last_event("quality_accounted", "silver.orders") is None
        base = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
        for seconds, kind, model, n in [(1, "quality_accounted", "silver.orders", 1),
                                        (2, "quality_accounted", "silver.items", 2),
                                        (3, "quality_checked", "silver.orders", 3),
                                        (4, "quality_accounted", "silver.orders", 4)]:
            store.emit(Event(kind, model=model, payload={"n": n},
                             ts=base + timedelta(seconds=seconds)))

        found = store.last_event("quality_accounted", "silver.orders")

    assert found is not None and found.payload == {"n": 4}
