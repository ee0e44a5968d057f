"""DuckDB functions Spark lacks, written as the Spark expressions giving DuckDB's value
(pure text checks; the demo tests run them on Spark against DuckDB's results)."""

from __future__ import annotations

import pytest

from afluente.engines.spark_functions import spark_pattern
from afluente.engines.spark_sql import Names, to_spark
from afluente.errors import Location


def spark(sql: str) -> str:
    return to_spark(sql, Names({}, {}), Location("m.sql"), "gold.m")


@pytest.mark.parametrize(("duckdb_format", "pattern"), [
    ("%Y-%m-%d %H:%M:%S", "yyyy-M-d H:m:s"),
    ("%Y-%m-%dT%H:%M:%S", "yyyy-M-d'T'H:m:s"),
    ("%d/%m/%Y", "d/M/yyyy"),
    ("%q", None),
])
def test_strptime_formats_become_spark_patterns(duckdb_format: str, pattern: str | None) -> None:
    assert spark_pattern(duckdb_format) == pattern


def test_try_strptime_tries_each_format_in_order_as_timestamp_ntz() -> None:
    text = spark("SELECT try_strptime(t, ['%Y-%m-%d', '%d/%m/%Y']) AS at FROM x")

    assert text == (
        "SELECT COALESCE(CAST(TRY_TO_TIMESTAMP(t, 'yyyy-M-d') AS TIMESTAMP_NTZ), "
        "CAST(TRY_TO_TIMESTAMP(t, 'd/M/yyyy') AS TIMESTAMP_NTZ)) AS at FROM x")


def test_iso_weekday_and_year_and_date_parts_are_bigint() -> None:
    text = spark("SELECT isodow(d) AS a, isoyear(d) AS b, year(d) AS c, dayofweek(d) AS e "
                 "FROM x")

    assert "CAST((((DAYOFWEEK(d) + 5) % 7) + 1) AS BIGINT) AS a" in text
    assert "CAST(YEAR(DATE_ADD(d, 4 - (((DAYOFWEEK(d) + 5) % 7) + 1))) AS BIGINT) AS b" in text
    assert "CAST(YEAR(d) AS BIGINT) AS c" in text
    assert "CAST(DAYOFWEEK(d) - 1 AS BIGINT) AS e" in text


def test_strip_accents_and_hexadecimal_keys() -> None:
    text = spark("SELECT strip_accents(c) AS a, CAST('0x' || left(md5(c), 15) AS BIGINT) AS k "
                 "FROM x")

    assert text.startswith("SELECT TRANSLATE(c, 'ÀÁÂÃÄ")
    assert "CAST(CONV(LEFT(MD5(c), 15), 16, 10) AS BIGINT) AS k" in text


def test_rescued_json_text_nests_as_one_variant() -> None:
    text = spark("SELECT CASE WHEN json_valid(t) THEN json(t) ELSE to_json(v) END AS j FROM x")

    assert text == ("SELECT COALESCE(TRY_PARSE_JSON(t), CAST(CAST(v AS STRING) AS VARIANT)) "
                    "AS j FROM x")
