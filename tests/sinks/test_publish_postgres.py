"""Publishing gold tables to a real PostgreSQL: values and types read back with psycopg,
exactly-once versions, atomic swaps, upserts, and every bad input the sink must survive."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest
from tests.sinks.conftest import MakeProject, column_types, fetch, libpq

from afluente.config import Project, load_project
from afluente.errors import ConfigError, Location
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.runtime.publish import publish_project
from afluente.sinks import SinkError, SinkTable, TableData, TableOptions
from afluente.sinks.postgres import PostgresSink, PostgresSinkConfig
from afluente.state import StateStore

TYPES_SQL = """
SELECT * FROM (VALUES
  (1::BIGINT, 7::INTEGER, 3::SMALLINT, 12.50::DECIMAL(10,2), 1.5::DOUBLE, 'ana'::VARCHAR,
   true, DATE '2024-02-29', TIMESTAMP '2024-01-02 03:04:05.123456',
   TIMESTAMPTZ '2024-01-02 03:04:05+00', '\\x00\\xFF'::BLOB, [1, 2, NULL]::BIGINT[],
   ['a"b', 'c,d']::VARCHAR[], {'x': 1, 'y': 'z'}, [[1], [2, 3]]),
  (2, NULL, NULL, NULL, 'NaN'::DOUBLE, '', NULL, NULL, NULL, NULL, NULL, [], NULL, NULL, NULL)
) AS t(id, i32, i16, amount, ratio, name, flag, day, ts, tstz, raw, ints, texts, obj, nested)
"""

EXPECTED_TYPES = {
    "id": "bigint", "i32": "integer", "i16": "smallint", "amount": "numeric(10,2)",
    "ratio": "double precision", "name": "text", "flag": "boolean", "day": "date",
    "ts": "timestamp without time zone", "tstz": "timestamp with time zone", "raw": "bytea",
    "ints": "bigint[]", "texts": "text[]", "obj": "jsonb", "nested": "jsonb",
}


def sink_yaml(url: str, tables: str, extra: str = "") -> str:
    return f"mart:\n  type: postgres\n  url: {url}\n  schema: mart\n{extra}  tables:\n{tables}"


def build(project: Project) -> None:
    assert run_project(project).status == "success"


# -- replace -----------------------------------------------------------------------------------


def test_replace_publishes_values_and_types(make_project: MakeProject, postgres_url: str) -> None:
    project = make_project({"gold/all_types.sql": TYPES_SQL},
                           sink_yaml(postgres_url, "    - gold.all_types\n"))
    build(project)
    result = publish_project(project)
    [outcome] = result.outcomes
    assert (outcome.status, outcome.rows, outcome.version, outcome.target) == (
        "published", 2, 0, "mart.all_types")
    assert column_types(postgres_url, "mart", "all_types") == EXPECTED_TYPES
    first, second = fetch(postgres_url, "SELECT * FROM mart.all_types ORDER BY id")
    assert first == (
        1, 7, 3, Decimal("12.50"), 1.5, "ana", True, dt.date(2024, 2, 29),
        dt.datetime(2024, 1, 2, 3, 4, 5, 123456),
        dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC), b"\x00\xff", [1, 2, None],
        ['a"b', "c,d"], {"x": 1, "y": "z"}, [[1], [2, 3]],
    )
    assert second[5] == ""  # an empty string stays a string, NULL stays NULL
    assert second[4] != second[4]  # NaN
    assert second[1:4] == (None, None, None) and second[11] == [] and second[12] is None


def test_same_version_is_published_once_unless_forced(
    make_project: MakeProject, postgres_url: str
) -> None:
    project = make_project({"gold/kpi.sql": "SELECT 1 AS id, 'a' AS v"},
                           sink_yaml(postgres_url, "    - gold.kpi\n"))
    build(project)
    first = publish_project(project)
    again = publish_project(project)
    forced = publish_project(project, force=True)
    assert [o.status for o in (*first.outcomes, *again.outcomes, *forced.outcomes)] == [
        "published", "up_to_date", "published"]
    assert fetch(postgres_url, "SELECT table_name, source_table, delta_version, rows, run_id "
                               "FROM mart._afluente_published") == [
        ("kpi", "gold.kpi", 0, 1, forced.run_id)]
    with StateStore.open(project.state_url) as state:
        events = [e for e in state.events() if e.type == "table_published"]
    assert [(e.run_id, e.model, e.payload["version"], e.payload["rows"]) for e in events] == [
        (first.run_id, "gold.kpi", 0, 1), (forced.run_id, "gold.kpi", 0, 1)]


def test_new_version_with_a_new_column_replaces_the_table(
    make_project: MakeProject, postgres_url: str
) -> None:
    project = make_project({"gold/kpi.sql": "SELECT 1 AS id"},
                           sink_yaml(postgres_url, "    - gold.kpi\n"))
    build(project)
    publish_project(project)
    (project.models_dir / "gold" / "kpi.sql").write_text("SELECT 2 AS id, 'new' AS label")
    build(load_project(project.root))
    [outcome] = publish_project(load_project(project.root)).outcomes
    assert (outcome.status, outcome.version) == ("published", 1)
    assert fetch(postgres_url, "SELECT id, label FROM mart.kpi") == [(2, "new")]
    assert fetch(postgres_url, "SELECT delta_version FROM mart._afluente_published") == [(1,)]


def test_replace_keeps_grants_indexes_and_primary_key(
    make_project: MakeProject, postgres_url: str
) -> None:
    tables = "    gold.kpi: {name: kpi_mart, keys: [id], indexes: [label, [label, id]]}\n"
    project = make_project({"gold/kpi.sql": "SELECT 1 AS id, 'a' AS label"},
                           sink_yaml(postgres_url, tables))
    build(project)
    publish_project(project)
    with psycopg.connect(libpq(postgres_url), autocommit=True) as conn:
        conn.execute("CREATE ROLE bi_reader")
        conn.execute("GRANT SELECT ON mart.kpi_mart TO bi_reader")
    publish_project(project, force=True)
    assert fetch(postgres_url, "SELECT has_table_privilege('bi_reader', 'mart.kpi_mart', "
                               "'SELECT')") == [(True,)]
    indexes = fetch(postgres_url, "SELECT indexname FROM pg_indexes WHERE schemaname = 'mart' "
                                  "AND tablename = 'kpi_mart' ORDER BY 1")
    assert indexes == [("kpi_mart_label_id_idx",), ("kpi_mart_label_idx",), ("kpi_mart_pkey",)]
    assert fetch(postgres_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'mart' "
                               "ORDER BY 1") == [("_afluente_published",), ("kpi_mart",)]


# -- upsert ------------------------------------------------------------------------------------


def test_upsert_creates_primary_key_merges_and_adds_columns(
    make_project: MakeProject, postgres_url: str
) -> None:
    tables = "    gold.customers: {mode: upsert, keys: [id]}\n"
    project = make_project({"gold/customers.sql": "SELECT * FROM (VALUES (1, 'ana'), "
                            "(2, 'bia')) t(id, name)"}, sink_yaml(postgres_url, tables))
    build(project)
    publish_project(project)
    assert fetch(postgres_url, "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                               "WHERE conrelid = 'mart.customers'::regclass") == [
        ("PRIMARY KEY (id)",)]
    (project.models_dir / "gold" / "customers.sql").write_text(
        "SELECT * FROM (VALUES (2, 'bea', 'SP'), (3, 'caio', 'RJ')) t(id, name, uf)")
    build(load_project(project.root))
    [outcome] = publish_project(load_project(project.root)).outcomes
    assert (outcome.status, outcome.rows, outcome.mode) == ("published", 2, "upsert")
    assert fetch(postgres_url, "SELECT id, name, uf FROM mart.customers ORDER BY id") == [
        (1, "ana", None), (2, "bea", "SP"), (3, "caio", "RJ")]


def test_upsert_duplicate_keys_name_the_values_and_leave_the_target(
    make_project: MakeProject, postgres_url: str
) -> None:
    tables = "    gold.customers: {mode: upsert, keys: [id]}\n"
    model = Path("gold/customers.sql")
    project = make_project({str(model): "SELECT 1 AS id, 'ana' AS name"},
                           sink_yaml(postgres_url, tables))
    build(project)
    publish_project(project)
    (project.models_dir / model).write_text(
        "SELECT * FROM (VALUES (1, 'x'), (1, 'y'), (7, 'p'), (7, 'q'), (7, 'r'), (8, 's')) "
        "t(id, name)")
    build(load_project(project.root))
    [outcome] = publish_project(load_project(project.root)).outcomes
    assert outcome.status == "failed" and outcome.error is not None
    assert "duplicate keys (id): id=7 (3 rows); id=1 (2 rows)" in outcome.error.message
    assert fetch(postgres_url, "SELECT id, name FROM mart.customers") == [(1, "ana")]
    assert fetch(postgres_url, "SELECT delta_version FROM mart._afluente_published") == [(0,)]


def test_upsert_keys_must_be_columns(make_project: MakeProject, postgres_url: str) -> None:
    tables = "    gold.kpi: {mode: upsert, keys: [kpi_id]}\n"
    project = make_project({"gold/kpi.sql": "SELECT 1 AS id"}, sink_yaml(postgres_url, tables))
    build(project)
    [outcome] = publish_project(project).outcomes
    assert outcome.error is not None
    assert "keys kpi_id of `gold.kpi` are not columns" in outcome.error.render()
    assert str(outcome.error.location) == f"{project.file}:8"


# -- bad input ---------------------------------------------------------------------------------


def test_unknown_table_is_a_config_error_with_line_and_close_match(
    make_project: MakeProject, postgres_url: str
) -> None:
    tables = "    - gold.kpi\n    - gold.kpis_daily\n"
    project = make_project({"gold/kpi.sql": "SELECT 1 AS id", "gold/kpi_daily.sql":
                            "SELECT 1 AS id"}, sink_yaml(postgres_url, tables))
    with pytest.raises(ConfigError) as caught:
        publish_project(project)
    assert str(caught.value.location) == f"{project.file}:9"
    assert "unknown table `gold.kpis_daily`" in caught.value.message
    assert "`gold.kpi_daily`" in (caught.value.hint or "")


def test_unknown_sink_key_is_a_config_error(make_project: MakeProject, postgres_url: str) -> None:
    project = make_project({"gold/kpi.sql": "SELECT 1 AS id"},
                           sink_yaml(postgres_url, "    - gold.kpi\n", "  shema: x\n"))
    with pytest.raises(ConfigError, match=r"unknown key `sinks\.mart\.shema`") as caught:
        publish_project(project)
    assert "did you mean `schema`?" in (caught.value.hint or "")
    assert str(caught.value.location) == f"{project.file}:7"


def test_unreachable_server_names_sink_and_host_never_the_password(
    make_project: MakeProject, postgres_url: str
) -> None:
    url = "postgresql://mart_user:s3cr3t-pw@127.0.0.1:1/mart"
    project = make_project({"gold/kpi.sql": "SELECT 1 AS id"},
                           sink_yaml(url, "    - gold.kpi\n", "  retries: 1\n"))
    build(project)
    [outcome] = publish_project(project).outcomes
    assert outcome.status == "failed" and outcome.error is not None
    text = outcome.error.render()
    assert "sink `mart`: cannot connect to PostgreSQL at mart_user@127.0.0.1:1/mart" in text
    assert "s3cr3t" not in text
    assert outcome.error.transient


def test_unknown_role_is_terminal(make_project: MakeProject, postgres_url: str) -> None:
    url = libpq(postgres_url).replace("postgres@", "nobody_here:pw@")
    project = make_project({"gold/kpi.sql": "SELECT 1 AS id"},
                           sink_yaml(url, "    - gold.kpi\n"))
    build(project)
    [outcome] = publish_project(project).outcomes
    assert outcome.error is not None and not outcome.error.transient
    assert 'role "nobody_here" does not exist' in outcome.error.message
    assert "pw@" not in outcome.error.render()


# -- failures in the middle of COPY, on the sink directly --------------------------------------


def _sink(url: str, retries: int = 0) -> PostgresSink:
    config = PostgresSinkConfig.model_validate(
        {"type": "postgres", "url": url, "schema": "mart", "retries": retries})
    return PostgresSink("mart", config, Location("afluente.yml", 3))


def _table(name: str = "kpi") -> SinkTable:
    return SinkTable(TableRef("gold", name), TableOptions(), Location("afluente.yml", 5))


def _data(batches: list[pa.RecordBatch], version: int, hook: object = None) -> TableData:
    def stream() -> Iterator[pa.RecordBatch]:
        for i, batch in enumerate(batches):
            if i == 1 and callable(hook):
                hook()
            yield batch

    return TableData(TableRef("gold", "kpi"), version, batches[0].schema, stream)


def _batch(*names: str) -> pa.RecordBatch:
    return pa.record_batch({"name": list(names)})


def test_rejected_value_mid_copy_keeps_the_published_table(postgres_url: str) -> None:
    sink = _sink(postgres_url)
    sink.publish(_table(), _data([_batch("old")], 0), run_id="r0")
    with pytest.raises(SinkError) as caught:
        sink.publish(_table(), _data([_batch("fine"), _batch("bad\x00value")], 1), run_id="r1")
    sink.close()
    assert "publishing `gold.kpi` to mart.kpi failed" in caught.value.message
    assert "COPY" in caught.value.message and not caught.value.transient
    assert fetch(postgres_url, "SELECT name FROM mart.kpi") == [("old",)]
    assert fetch(postgres_url, "SELECT delta_version FROM mart._afluente_published") == [(0,)]
    assert fetch(postgres_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'mart'") == [
        (2,)]  # no staging table left behind


def _kill_publisher(url: str) -> None:
    fetch(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
               "WHERE application_name = 'afluente' AND pid <> pg_backend_pid()")


def test_killed_connection_mid_copy_keeps_old_table_then_retry_publishes(
    postgres_url: str,
) -> None:
    sink = _sink(postgres_url)
    sink.publish(_table(), _data([_batch("old")], 0), run_id="r0")
    kill = lambda: _kill_publisher(postgres_url)  # noqa: E731
    with pytest.raises(SinkError) as caught:
        sink.publish(_table(), _data([_batch("a"), _batch("b")], 1, kill), run_id="r1")
    assert caught.value.transient
    assert fetch(postgres_url, "SELECT name FROM mart.kpi") == [("old",)]
    kills: list[int] = []

    def kill_first_attempt_only() -> None:
        if not kills:
            kills.append(1)
            kill()

    retrying = _sink(postgres_url, retries=1)
    outcome = retrying.publish(
        _table(), _data([_batch("a"), _batch("b")], 1, kill_first_attempt_only), run_id="r2")
    retrying.close()
    assert (outcome.status, outcome.rows) == ("published", 2)
    assert fetch(postgres_url, "SELECT name FROM mart.kpi ORDER BY 1") == [("a",), ("b",)]


def test_readers_see_the_old_table_while_the_new_one_loads(postgres_url: str) -> None:
    sink = _sink(postgres_url)
    sink.publish(_table(), _data([_batch("old")], 0), run_id="r0")
    seen: list[object] = []

    def look() -> None:  # another session, in the middle of the load
        reader = threading.Thread(target=lambda: seen.extend(
            fetch(postgres_url, "SELECT name FROM mart.kpi")))
        reader.start()
        reader.join()

    sink.publish(_table(), _data([_batch("new"), _batch("newer")], 1, look), run_id="r1")
    sink.close()
    assert seen == [("old",)]
    assert fetch(postgres_url, "SELECT name FROM mart.kpi ORDER BY 1") == [("new",), ("newer",)]


# -- after a run -------------------------------------------------------------------------------


def test_publish_after_run_publishes_rebuilt_tables_and_reports_failures(
    make_project: MakeProject, postgres_url: str
) -> None:
    tables = "    gold.kpi:\n    gold.dupes: {mode: upsert, keys: [id]}\n"
    project = make_project(
        {"gold/kpi.sql": "SELECT 1 AS id", "gold/dupes.sql": "SELECT 1 AS id UNION ALL SELECT 1"},
        sink_yaml(postgres_url, tables, "  publish_after_run: true\n"))
    result = run_project(project)
    assert result.count("success") == 2
    assert result.status == "failed"
    assert [(p.table, p.status) for p in result.published] == [
        ("gold.kpi", "published"), ("gold.dupes", "failed")]
    assert fetch(postgres_url, "SELECT id FROM mart.kpi") == [(1,)]
    with StateStore.open(project.state_url) as state:
        run = state.get_run(result.run_id)
    assert run.error is not None and "publish gold.dupes to sink mart" in run.error
    again = run_project(load_project(project.root))
    assert again.published == ()  # nothing rebuilt, nothing published


def test_apply_changes_tables_publish_only_their_visible_rows(
    make_project: MakeProject, postgres_url: str
) -> None:
    feed = (
        "SELECT * FROM (VALUES (1, 1, 'SP'), (1, 2, 'RJ'), (2, 1, 'MG')) AS t(id, seq, uf)"
    )
    dimension = (
        "/* @config\nkind: apply_changes\nkeys: [id]\nsequence_by: seq\nscd_type: 2\n*/\n"
        "SELECT * FROM silver.feed"
    )
    project = make_project(
        {"silver/feed.sql": feed, "gold/dim.sql": dimension},
        sink_yaml(postgres_url, "    - gold.dim\n"),
    )
    build(project)
    [outcome] = publish_project(project).outcomes
    assert (outcome.status, outcome.rows) == ("published", 3)
    assert column_types(postgres_url, "mart", "dim").keys() == {
        "id", "seq", "uf", "valid_from", "valid_to", "is_current"}
    rows = fetch(postgres_url, "SELECT id, uf, is_current FROM mart.dim ORDER BY id, seq")
    assert rows == [(1, "SP", False), (1, "RJ", True), (2, "MG", True)]
