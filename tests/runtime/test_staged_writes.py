"""SQL models are written as Parquet by DuckDB in parallel and committed by delta-rs; results
with types Delta cannot read as DuckDB writes them go through the Delta writer instead."""

from __future__ import annotations

from pathlib import Path

from deltalake import DeltaTable

from afluente.config import load_project
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.storage import Warehouse

from .conftest import write

REF = TableRef("silver", "numbers")


def _build(project_dir: Path, sql: str) -> Warehouse:
    write(project_dir / "models" / "silver" / "numbers.sql", sql)
    project = load_project(project_dir)
    result = run_project(project, "silver.numbers")
    assert result.status == "success", [m.reason for m in result.failed]
    return Warehouse(project.warehouse_uri)


def test_staged_write_commits_every_row_once_and_leaves_no_staging(project_dir: Path) -> None:
    warehouse = _build(
        project_dir,
        "SELECT range AS n, 'x' || range AS s, range / 4 AS d FROM range(300000)\n",
    )
    table = DeltaTable(warehouse.uri(REF))
    data = table.to_pyarrow_table()
    assert data.num_rows == 300000
    assert sorted(data.column("n").to_pylist())[-1] == 299999
    commit = warehouse.last_commit(REF)
    assert commit is not None and commit.rows_added == 300000
    assert commit.operation == "CREATE TABLE"  # the first commit creates the table
    assert list((Path(warehouse.root) / "_staging").iterdir()) == []


def test_rebuild_replaces_content_and_schema(project_dir: Path) -> None:
    _build(project_dir, "SELECT range AS n FROM range(10)\n")
    warehouse = _build(project_dir, "SELECT range AS n, range * 2 AS twice FROM range(3)\n")
    current = warehouse.dataset(REF).to_table()
    assert current.column_names == ["n", "twice"]
    assert current.column("twice").to_pylist() == [0, 2, 4]
    old = warehouse.open(REF, version=0).to_pyarrow_table()
    assert old.num_rows == 10 and old.column_names == ["n"]
    assert [(c.version, c.rows_added) for c in warehouse.history(REF)] == [(1, 3), (0, 10)]


def test_types_delta_cannot_take_as_written_use_the_delta_writer(project_dir: Path) -> None:
    warehouse = _build(
        project_dir,
        "SELECT range::UBIGINT AS u, [range, range] AS pair, "
        "TIMESTAMP '2024-01-01 10:00:00' AS naive FROM range(5)\n",
    )
    data = warehouse.dataset(REF).to_table()
    assert data.num_rows == 5
    assert data.column("pair").to_pylist()[2] == [2, 2]
    commit = warehouse.last_commit(REF)
    assert commit is not None and commit.rows_added == 5


def test_failed_staged_write_leaves_previous_version_and_no_files(project_dir: Path) -> None:
    warehouse = _build(project_dir, "SELECT range AS n FROM range(10)\n")
    files_before = sorted(p.name for p in Path(warehouse.uri(REF)).glob("*.parquet"))
    write(
        project_dir / "models" / "silver" / "numbers.sql",
        "SELECT CASE WHEN range > 500000 THEN error('late failure') ELSE range END AS n\n"
        "FROM range(1000000)\n",
    )
    result = run_project(load_project(project_dir), "silver.numbers")
    (failed,) = result.failed
    assert "late failure" in failed.reason
    assert warehouse.version(REF) == 0
    assert warehouse.dataset(REF).count_rows() == 10
    assert sorted(p.name for p in Path(warehouse.uri(REF)).glob("*.parquet")) == files_before
    assert list((Path(warehouse.root) / "_staging").iterdir()) == []


def test_naive_timestamps_added_to_an_existing_table_upgrade_its_protocol(
    project_dir: Path,
) -> None:
    _build(project_dir, "SELECT range AS n FROM range(3)\n")
    warehouse = _build(
        project_dir, "SELECT range AS n, TIMESTAMP '2024-01-01 10:00:00' AS at FROM range(4)\n"
    )
    table = DeltaTable(warehouse.uri(REF))
    assert "timestampNtz" in (table.protocol().reader_features or [])
    assert table.to_pyarrow_table().num_rows == 4
    assert [(c.version, c.rows_added) for c in warehouse.history(REF)] == [(1, 4), (0, 3)]
    assert list((Path(warehouse.root) / "_staging").iterdir()) == []
