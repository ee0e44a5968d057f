"""The incremental kinds' DuckDB SQL as Spark SQL (pure translation, no Spark needed)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from afluente.engines.spark_kind_sql import MARKER, kind_sql
from afluente.errors import EngineError
from afluente.transform.sqltext import first_per, row_hash

VIEWS = {"__merge_source": "__merge_source__ws7"}


def test_scratch_tables_become_the_workspace_views_keeping_their_name_as_alias() -> None:
    query = kind_sql('SELECT count(*) FROM "__merge_source" WHERE k IS NULL', VIEWS, None)

    assert query.text == ("SELECT COUNT(*) FROM `__merge_source__ws7` AS __merge_source "
                          "WHERE k IS NULL")
    assert query.marker is None


def test_parameters_become_literals_of_duckdbs_types() -> None:
    query = kind_sql("SELECT $ts AS a, $day AS b, $n AS c, $none AS d", {},
                     {"ts": datetime(2026, 1, 2, 3, 4, 5), "day": date(2026, 1, 2), "n": 3,
                      "none": None})

    assert query.text == ("SELECT CAST('2026-01-02 03:04:05' AS TIMESTAMP_NTZ) AS a, "
                          "CAST('2026-01-02' AS DATE) AS b, 3 AS c, NULL AS d")


def test_a_row_hash_is_taken_of_the_rows_json() -> None:
    query = kind_sql(f"SELECT {row_hash(['k', 'v'], 's')} FROM t AS s", {}, None)

    assert query.text == ("SELECT MD5(TO_JSON(STRUCT(s.`k` AS `k`, s.`v` AS `v`), "
                          "MAP('ignoreNullFields', 'false'))) FROM t AS s")


def test_a_top_level_qualify_filters_on_a_marker_column_for_the_caller_to_drop() -> None:
    query = kind_sql(first_per("FROM __merge_source", '"k"', '"s" DESC'), VIEWS, None)

    assert query.marker == MARKER
    assert query.text == (
        "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY `k` ORDER BY `s` DESC) = 1 "
        f"AS {MARKER} FROM (SELECT * FROM `__merge_source__ws7` AS __merge_source)) "
        f"AS __afluente_qualify WHERE {MARKER}")


def test_a_missing_parameter_is_an_engine_error() -> None:
    with pytest.raises(EngineError, match=r"has no value for `\$ts`"):
        kind_sql("SELECT $ts", {}, {})


def test_sql_that_does_not_parse_names_the_table_and_the_settings_to_check() -> None:
    with pytest.raises(EngineError) as raised:
        kind_sql("SELECT CASE WHEN (amount < FROM t", {}, None, table="gold.orders_by_id")

    assert "[gold.orders_by_id] the incremental step's SQL does not parse" in str(raised.value)
    assert "delete_when / apply_as_deletes" in str(raised.value)
