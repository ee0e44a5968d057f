"""The governed reader's SQL (masks and row filters, written in the project dialect) gives
the same values on Spark as on DuckDB: one rewrite over the engine seam serves both."""

from __future__ import annotations

import datetime
import hashlib
import hmac

import pyarrow as pa
import pytest

from afluente.config.governance import RoleSpec
from afluente.engines.duckdb_engine import DuckDBEngine
from afluente.engines.spark_engine import SparkEngine
from afluente.governance.grants import Grant
from afluente.governance.principals import Directory, Principal
from afluente.governance.reader import GovernedReader
from afluente.model import TableRef

PEOPLE = pa.table({
    "id": [1, 2, 3],
    "cpf": ["123.456.789-09", "987.654.321-00", None],
    "email": ["ana@example.com", "bia@example.com", "ana@example.com"],
    "born": [datetime.date(1990, 5, 17), datetime.date(1985, 12, 1), None],
    "uf": ["SP", "RJ", "SP"],
})
REF = TableRef("silver", "people")
KEY = b"spark-and-duckdb-agree"


def reader(monkeypatch: pytest.MonkeyPatch) -> GovernedReader:
    monkeypatch.setenv("AFLUENTE_MASK_KEY", KEY.decode())
    role = RoleSpec(masks={"silver.people.cpf": "partial", "silver.people.email": "hmac",
                           "silver.people.born": "year", "silver.people.uf": "redact"},
                    row_filters={"silver.people": "uf = 'SP'"})
    directory = Directory((), {}, {"r": ("service:x",)}, (Grant("r", "SELECT", "silver"),))
    return GovernedReader(Principal("service:x", frozenset({"r"})), directory, {"r": role})


def governed_rows(engine: DuckDBEngine | SparkEngine, governed: GovernedReader) -> list[dict]:
    engine.attach_table(REF, PEOPLE)
    sql = governed.rewrite("SELECT * FROM silver.people ORDER BY id",
                           lambda ref: PEOPLE.column_names if ref == REF else None)
    return engine.read_only_query(sql, []).to_pylist()


def pseudonym(value: str) -> str:
    return hmac.new(KEY, value.encode(), hashlib.sha256).hexdigest()


def test_masks_and_filters_agree_on_spark_and_duckdb(
        spark_engine: SparkEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    governed = reader(monkeypatch)
    duck = DuckDBEngine()
    try:
        on_duckdb = governed_rows(duck, governed)
    finally:
        duck.close()
    expected = [
        {"id": 1, "cpf": "**********9-09", "email": pseudonym("ana@example.com"),
         "born": datetime.date(1990, 1, 1), "uf": "****"},
        {"id": 3, "cpf": None, "email": pseudonym("ana@example.com"), "born": None,
         "uf": "****"},
    ]
    assert on_duckdb == expected
    assert governed_rows(spark_engine, governed) == expected
