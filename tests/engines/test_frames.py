"""A Python model declares the frame type it takes (`frame=`): Arrow, pandas and Polars are
converted from any engine's inputs; an engine's own frame (`duckdb`, `spark`) on another
engine is refused by `validate` and `run` before anything runs, naming the file and line.
The Spark side is in tests/engines/spark/test_spark_project.py (same models, same content)."""

from __future__ import annotations

from pathlib import Path

import pytest
from deltalake import DeltaTable
from tests.cli_inprocess import run_afluente

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.errors import EngineError
from afluente.runtime.runner import run_project

FRAMES = '''import afluente


@afluente.table(inputs=["silver.orders"], frame="pandas")
def orders_pandas(orders):
    assert type(orders).__module__.startswith("pandas"), type(orders)
    big = orders[orders["amount"] > 100]
    return big[["order_id", "amount"]].reset_index(drop=True)


@afluente.table(inputs={"o": "silver.orders"}, frame="arrow")
def orders_arrow(o):
    import pyarrow.compute as pc
    return o.filter(pc.greater(o["amount"], 100)).select(["order_id", "amount"])


@afluente.table(inputs=["silver.orders"], frame="polars")
def orders_polars(orders):
    import polars as pl
    return orders.filter(pl.col("amount") > 100).select("order_id", "amount")
'''
SPARK_ONLY = '''import afluente


@afluente.table(inputs=["silver.orders"],
                frame="spark")
def spark_only(orders):
    return orders.where("amount > 100")
'''


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("frames") / "shop"
    scaffold(root)
    (root / "models" / "gold" / "frames.py").write_text(FRAMES)
    result = run_project(load_project(root))
    assert result.status == "success", result.error
    return root


@pytest.mark.parametrize("name", ["orders_pandas", "orders_arrow", "orders_polars"])
def test_converted_frames_give_the_same_rows(built: Path, name: str) -> None:
    table = DeltaTable(str(built / "warehouse" / "gold" / name)).to_pyarrow_table()
    expected = DeltaTable(str(built / "warehouse" / "silver" / "orders")).to_pyarrow_table()
    big = sorted((r["order_id"], r["amount"]) for r in expected.to_pylist() if r["amount"] > 100)

    assert table.column_names == ["order_id", "amount"]
    assert sorted((r["order_id"], r["amount"]) for r in table.to_pylist()) == big
    assert big  # the scaffold has orders above 100


def test_another_engines_frame_is_refused_by_validate_with_file_and_line(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    scaffold(root)
    (root / "models" / "gold" / "spark_only.py").write_text(SPARK_ONLY)

    done = run_afluente(["-p", str(root), "validate"])

    assert done.returncode != 0
    assert "spark_only.py:4" in done.stderr  # the decorator's line
    assert "`gold.spark_only` takes spark frames (`frame: spark`)" in done.stderr
    assert "the `duckdb` engine gives duckdb frames" in done.stderr
    with pytest.raises(EngineError, match="takes spark frames"):
        run_project(load_project(root))
    assert not (root / "warehouse" / "silver").exists()  # refused before anything ran


def test_frame_on_a_sql_model_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    scaffold(root)
    model = root / "models" / "gold" / "revenue_by_state.sql"
    model.write_text("/* @config\nframe: pandas\n*/\n" + model.read_text())

    done = run_afluente(["-p", str(root), "validate"])

    assert done.returncode != 0
    assert "revenue_by_state.sql:2" in done.stderr
    assert "`frame: pandas` applies to Python models only" in done.stderr


DUCKDB_ONLY = '''import afluente


@afluente.table(inputs=["silver.orders"], frame="duckdb")
def duckdb_only(orders):
    return orders.query("o", "SELECT * FROM o")
'''


def test_a_duckdb_function_on_spark_is_refused_before_spark_starts(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    scaffold(root)
    config = root / "afluente.yml"
    config.write_text(config.read_text().replace("engine: duckdb", "engine: {type: spark}"))
    (root / "models" / "gold" / "duckdb_only.py").write_text(DUCKDB_ONLY)

    done = run_afluente(["-p", str(root), "validate"])

    assert done.returncode != 0
    assert "duckdb_only.py:4" in done.stderr
    assert ("`gold.duckdb_only` takes duckdb frames (`frame: duckdb`), and the `spark` engine "
            "gives spark frames") in done.stderr
    assert "`engine: duckdb` in its config" in done.stderr  # the hint
