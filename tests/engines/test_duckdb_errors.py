"""DuckDB's errors point into the model file: the real line and column, and DuckDB's advice."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from afluente.engines.duckdb_engine import DuckDBEngine
from afluente.errors import EngineError, Location
from afluente.model import TableRef

MODEL = """/* @config
description: typed orders
*/
SELECT order_id,
       amout
FROM bronze.orders
"""


@pytest.fixture
def engine() -> DuckDBEngine:
    engine = DuckDBEngine()
    empty = pa.table({"order_id": pa.array([], pa.int64()), "amount": pa.array([], pa.int64())})
    engine.attach_table(TableRef("bronze", "orders"), empty)
    return engine


@pytest.fixture
def model(tmp_path: Path) -> Path:
    file = tmp_path / "orders.sql"
    file.write_text(MODEL)
    return file


def test_a_view_error_names_line_column_and_candidate(engine: DuckDBEngine, model: Path) -> None:
    with pytest.raises(EngineError) as caught:
        engine.attach_view(TableRef("silver", "orders"), MODEL, Location(model, 1))

    assert caught.value.location == Location(model, 5, 8)
    assert caught.value.message.startswith('DuckDB: Binder Error: Referenced column "amout"')
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("did you mean `amount`?")


def test_a_run_error_keeps_the_real_line_not_line_1(engine: DuckDBEngine, model: Path) -> None:
    with pytest.raises(EngineError) as caught:
        engine.run_sql(MODEL, Location(model, 1), "silver.orders")

    assert caught.value.location == Location(model, 5, 8)
    assert caught.value.hint is not None and "did you mean `amount`?" in caught.value.hint


def test_an_error_on_the_first_line_discounts_the_statement_prefix(
    engine: DuckDBEngine, tmp_path: Path
) -> None:
    file = tmp_path / "bare.sql"
    file.write_text("SELECT o.amout FROM bronze.orders AS o\n")
    with pytest.raises(EngineError) as caught:
        engine.attach_view(TableRef("silver", "bare"), file.read_text(), Location(file, 1))

    assert caught.value.location == Location(file, 1, 8)
    assert caught.value.hint is not None and caught.value.hint.startswith("did you mean `amount`?")


def test_generated_sql_keeps_the_model_location(engine: DuckDBEngine, model: Path) -> None:
    generated = "SELECT *\nFROM bronze.orders\nWHERE amout > 0"
    with pytest.raises(EngineError) as caught:
        engine.materialize(TableRef("silver", "flagged"), generated, Location(model, 1), "x")

    assert caught.value.location == Location(model, 1)
