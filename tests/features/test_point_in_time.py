"""Point-in-time joins: a case built to leak (feature values updated after each label time)
checked row by row against an independent brute-force computation in Python, on both SQL
forms (DuckDB's ASOF JOIN and the window over a union other engines run)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pytest

from afluente.errors import FeatureError
from afluente.features import FeatureTable, Labels, feature, training_set
from afluente.features.pit_sql import window_sql
from afluente.features.spec import resolve

START = datetime(2024, 1, 1)
LEAK = 9999.0  # the value every feature row written after a label time carries


def leaky_case(seed: int) -> tuple[list[tuple[Any, ...]], dict[str, list[tuple[Any, ...]]]]:
    """Labels, and two feature tables whose rows keep changing after the label times: a
    row stamped after a label time holds LEAK, so any leak shows as that value."""
    rng = random.Random(seed)
    labels = []
    for entity in range(1, 31):
        for _ in range(rng.randint(0, 4)):
            labels.append((entity, START + timedelta(hours=rng.randint(0, 24 * 60)),
                           rng.randint(0, 1)))
    labels.append((None, START + timedelta(days=3), 0))  # no entity: no features
    label_times = {e: sorted(t for k, t, _ in labels if k == e) for e in range(1, 31)}
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for name in ("spend", "visits"):
        rows = []
        for entity in range(1, 36):  # 31..35 have features but no labels
            times = rng.sample(range(0, 24 * 60), rng.randint(0, 8))
            for hours in times:
                at = START + timedelta(hours=hours)
                after_a_label = any(at > t for t in label_times.get(entity, []))
                value = LEAK if after_a_label and rng.random() < 0.5 else float(hours)
                rows.append((entity, at, None if rng.random() < 0.1 else value))
            # a row exactly at each label time: taken, unless the join is exclusive
            rows += [(entity, t, 7.0) for t in label_times.get(entity, []) if rng.random() < 0.3
                     and t not in {START + timedelta(hours=h) for h in times}]
        tables[name] = rows
    return labels, tables


def brute_force(labels: list[tuple[Any, ...]], rows: list[tuple[Any, ...]], exclusive: bool,
                ttl: timedelta | None) -> list[Any]:
    """Per label, the value of the latest row of its entity known at its time."""
    found = []
    for entity, at, _ in labels:
        known = [r for r in rows if r[0] == entity and (r[1] < at if exclusive else r[1] <= at)]
        latest = max(known, key=lambda r: r[1]) if known else None
        if latest is not None and ttl is not None and latest[1] < at - ttl:
            latest = None
        found.append(None if latest is None else latest[2])
    return found


@pytest.fixture
def connection() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def load(connection: duckdb.DuckDBPyConnection, seed: int) -> tuple[Any, Any]:
    labels, tables = leaky_case(seed)
    connection.execute("CREATE TABLE labels (customer_id INTEGER, as_of TIMESTAMP, churned "
                       "INTEGER)")
    connection.executemany("INSERT INTO labels VALUES (?, ?, ?)", labels)
    for name, rows in tables.items():
        connection.execute(f"CREATE TABLE {name} (customer_id BIGINT, known_at TIMESTAMP, "
                           f"{name} DOUBLE)")
        connection.executemany(f"INSERT INTO {name} VALUES (?, ?, ?)", rows)
    return labels, tables


def expected(labels: list[tuple[Any, ...]], tables: dict[str, list[tuple[Any, ...]]],
             exclusive: bool, ttl: timedelta | None) -> list[tuple[Any, ...]]:
    columns = [brute_force(labels, tables[n], exclusive, ttl) for n in ("spend", "visits")]
    return sorted(((*label, *values) for label, *values in zip(labels, *columns, strict=True)),
                  key=repr)


CASES = [(False, None), (True, None), (False, timedelta(days=5)), (True, timedelta(hours=36))]


@pytest.mark.parametrize(("exclusive", "ttl"), CASES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_asof_training_set_only_sees_values_known_at_the_label_time(
        connection: duckdb.DuckDBPyConnection, seed: int, exclusive: bool,
        ttl: timedelta | None) -> None:
    labels, tables = load(connection, seed)
    built = training_set(
        connection.sql("SELECT * FROM labels"), label_time="as_of", exclusive=exclusive,
        features={n: feature(connection.sql(f"SELECT * FROM {n}"), entity_key="customer_id",
                             event_time="known_at", ttl=ttl) for n in ("spend", "visits")})

    rows = sorted(built.fetchall(), key=repr)

    assert built.columns == ["customer_id", "as_of", "churned", "spend", "visits"]
    assert rows == expected(labels, tables, exclusive, ttl)
    assert LEAK in {r[2] for rs in tables.values() for r in rs}  # the case does leak-bait


@pytest.mark.parametrize(("exclusive", "ttl"), CASES)
def test_window_form_gives_the_same_rows(connection: duckdb.DuckDBPyConnection,
                                          exclusive: bool, ttl: timedelta | None) -> None:
    labels, tables = load(connection, 4)
    schema = {"customer_id": "INTEGER", "as_of": "TIMESTAMP", "churned": "INTEGER"}
    specs = [FeatureTable(n, ("customer_id",), "known_at", ttl=ttl) for n in ("spend", "visits")]
    resolved = resolve(Labels("labels", "as_of"), schema, specs, {
        n: {"customer_id": "BIGINT", "known_at": "TIMESTAMP", n: "DOUBLE"}
        for n in ("spend", "visits")})

    query = window_sql("labels", "as_of", list(schema), resolved, exclusive)

    assert sorted(connection.sql(query).fetchall(), key=repr) == expected(
        labels, tables, exclusive, ttl)


def test_a_date_label_time_against_timestamps(connection: duckdb.DuckDBPyConnection) -> None:
    labels = connection.sql("SELECT 1 AS id, DATE '2024-01-02' AS day")
    values = connection.sql("SELECT * FROM (VALUES (1, TIMESTAMP '2024-01-01 23:00', 1.0), "
                            "(1, TIMESTAMP '2024-01-02 00:00', 2.0), "
                            "(1, TIMESTAMP '2024-01-02 00:01', 3.0)) AS t(id, ts, x)")

    built = training_set(labels, label_time="day",
                         features={"f": feature(values, entity_key="id", event_time="ts")})

    assert built.fetchall() == [(1, datetime(2024, 1, 2).date(), 2.0)]


def two(connection: duckdb.DuckDBPyConnection, label_sql: str, feature_sql: str,
        **options: Any) -> Any:
    return training_set(connection.sql(label_sql), label_time="at", features={
        "orders": feature(connection.sql(feature_sql), entity_key="customer_id",
                          event_time="known_at", **options)})


LABELS = "SELECT 1 AS customer_id, TIMESTAMP '2024-01-01' AS at"


def test_key_type_mismatch_names_both_columns_and_types(
        connection: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(FeatureError) as caught:
        two(connection, LABELS, "SELECT '1' AS customer_id, TIMESTAMP '2024-01-01' AS known_at")

    assert caught.value.message == (
        "entity key types differ: `customer_id` is INTEGER in label table `labels` but "
        "`customer_id` is VARCHAR in feature table `orders`")
    assert caught.value.hint == "cast one side in its model so both are the same type"


def test_key_name_mismatch_names_the_key_and_the_labels_columns(
        connection: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(FeatureError) as caught:
        two(connection, "SELECT 1 AS client, TIMESTAMP '2024-01-01' AS at",
            "SELECT 1 AS customer_id, TIMESTAMP '2024-01-01' AS known_at")

    assert caught.value.message == (
        "the entity key `customer_id` of feature table `orders` is not a column of label "
        "table `labels` (its columns: client, at)")
    built = training_set(
        connection.sql("SELECT 1 AS client, TIMESTAMP '2024-01-01' AS at"), label_time="at",
        key_names={"client": "customer_id"}, features={"orders": feature(
            connection.sql("SELECT 1 AS customer_id, TIMESTAMP '2024-01-01' AS known_at, "
                           "5 AS n"), entity_key="customer_id", event_time="known_at")})
    assert built.fetchall() == [(1, datetime(2024, 1, 1), 5)]


def test_missing_event_time_column(connection: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(FeatureError) as caught:
        two(connection, LABELS, "SELECT 1 AS customer_id, TIMESTAMP '2024-01-01' AS ts")

    assert caught.value.message == (
        "feature table `orders` has no column `known_at`, its event time (`event_time:`); "
        "its columns: customer_id, ts")


def test_event_time_that_is_no_time(connection: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(FeatureError, match=r"column `known_at` of feature table `orders` is "
                       r"VARCHAR, not a date or timestamp"):
        two(connection, LABELS, "SELECT 1 AS customer_id, '2024-01-01' AS known_at")


def test_a_feature_column_clashing_with_a_label_column(
        connection: duckdb.DuckDBPyConnection) -> None:
    feature_sql = "SELECT 1 AS customer_id, TIMESTAMP '2024-01-01' AS known_at, 1 AS at"
    with pytest.raises(FeatureError) as caught:
        two(connection, LABELS, feature_sql)

    assert caught.value.message == (
        "column `at` of feature table `orders` is also a column of label table `labels`")
    assert two(connection, LABELS, feature_sql, prefix="orders_").columns == [
        "customer_id", "at", "orders_at"]


def test_a_ttl_that_is_no_duration(connection: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(FeatureError, match="ttl 'soon' is not a duration"):
        two(connection, LABELS, LABELS, ttl="soon")
