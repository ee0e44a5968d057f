"""`afluente query` cannot write, cannot run a second statement, and reads files only under
the warehouse and the landing folders. Every case asserts the refusal, that no file anywhere
under the project (or the outside target) changed, and that the tables still read at the
same Delta version."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cli_inprocess import run_afluente

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.errors import EngineError
from afluente.runtime.query import query_project, readable_folders

Snapshot = dict[str, tuple[int, int]]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("secure") / "shop"
    scaffold(root)
    built = run_afluente(["-p", str(root), "run"])
    assert built.returncode == 0, built.stderr
    return root


def files_under(*folders: Path) -> Snapshot:
    """Every file with its size and mtime (afluente's parse cache aside: loading the project
    may refresh it)."""
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns)
        for folder in folders if folder.exists()
        for p in folder.rglob("*")
        if p.is_file() and "cache" not in p.relative_to(folder).parts
    }


@pytest.fixture
def unchanged(shop: Path, tmp_path: Path) -> Iterator[Path]:
    """Yields an outside folder; afterwards asserts nothing was written anywhere."""
    before = files_under(shop, tmp_path)
    yield tmp_path
    assert files_under(shop, tmp_path) == before
    rows = query_project(load_project(shop), "SELECT count(*) AS n FROM silver.orders")
    assert rows.to_pylist() == [{"n": 4}]


def refused(shop: Path, sql: str) -> str:
    with pytest.raises(EngineError) as caught:
        query_project(load_project(shop), sql)
    return str(caught.value)


def delta_log(shop: Path) -> Path:
    return shop / "warehouse" / "silver" / "orders" / "_delta_log"


@pytest.mark.parametrize("first", ["describe select 1", "summarize silver.orders",
                                   "show tables", "select 1", "/* ok */ from silver.orders"])
def test_a_second_statement_refuses_the_whole_input(shop: Path, unchanged: Path,
                                                     first: str) -> None:
    target = delta_log(shop) / "00000000000000000099.json"
    message = refused(shop, f"{first}; COPY (SELECT 'x') TO '{target}'")
    assert "runs exactly one read-only statement; got 2" in message
    assert "COPY" in message
    assert not target.exists()


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("COPY (SELECT 1) TO '{wh}/silver/orders/_delta_log/x.json'", "COPY"),
        ("COPY silver.orders TO '{out}/orders.csv'", "COPY"),
        ("/* SELECT */ COPY (SELECT 1) TO '{wh}/x.csv'", "COPY"),
        ("-- SELECT 1;\nCOPY (SELECT 1) TO '{wh}/x.csv'", "COPY"),
        ("EXPLAIN ANALYZE COPY (SELECT 1) TO '{wh}/x.csv'", "EXPLAIN"),
        ("EXPLAIN /* c */ ANALYZE COPY (SELECT 1) TO '{out}/x.csv'", "EXPLAIN"),
        ("EXPORT DATABASE '{out}/dump'", "EXPORT"),
        ("ATTACH '{wh}/evil.duckdb' AS evil", "ATTACH"),
        ("ATTACH ':memory:' AS scratch", "ATTACH"),
        ("INSTALL httpfs", "LOAD"),
        ("LOAD httpfs", "LOAD"),
        ("SET enable_external_access = true", "SET"),
        ("SET lock_configuration = false", "SET"),
        ("RESET allowed_directories", "SET"),
        ("PRAGMA enable_profiling = 'json'", "SET"),
        ("PRAGMA threads = 1", "SET"),
        ("CALL pragma_version()", "CALL"),
        ("CREATE TABLE silver.evil AS SELECT 1", "CREATE"),
        ("CREATE PERSISTENT SECRET evil (TYPE s3)", "CREATE"),
        ("DROP VIEW silver.orders", "DROP"),
        ("INSERT INTO silver.orders SELECT * FROM silver.orders", "INSERT"),
        ("CHECKPOINT", "CALL"),
        ("SET VARIABLE x = 1", "SET"),
        ("PREPARE p AS SELECT 1", "PREPARE"),
    ],
)
def test_statements_that_are_not_queries_are_refused(shop: Path, unchanged: Path,
                                                     sql: str, kind: str) -> None:
    text = sql.format(wh=shop / "warehouse", out=unchanged)
    message = refused(shop, text)
    assert f"runs read-only statements only; got {kind}" in message
    assert "afluente run" in message


@pytest.mark.parametrize(
    ("sql", "call"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "read_csv('/etc/passwd')"),
        ("SELECT * FROM read_text('/etc/hostname')", "read_text('/etc/hostname')"),
        ("SELECT * FROM read_blob('/etc/hostname')", "read_blob('/etc/hostname')"),
        ("SELECT * FROM glob('/root/*')", "glob('/root/*')"),
        ("SELECT * FROM read_json_auto('/proc/self/environ')",
         "read_json_auto('/proc/self/environ')"),
        ("SELECT * FROM read_csv('{land}/../../../etc/passwd')",
         "read_csv('{land}/../../../etc/passwd')"),
        ("SELECT * FROM read_parquet('{out}/*.parquet')", "read_parquet('{out}/*.parquet')"),
    ],
)
def test_files_outside_the_project_data_are_not_readable(shop: Path, unchanged: Path,
                                                         sql: str, call: str) -> None:
    names = {"land": shop / "landing", "out": unchanged}
    message = refused(shop, sql.format(**names))
    assert f"cannot read {call.format(**names)}" in message
    assert str(shop / "warehouse") in message and str(shop / "landing") in message


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT count(*) AS n FROM silver.orders -- ; COPY (SELECT 1) TO 'x'", [{"n": 4}]),
        ("SELECT ';COPY (SELECT 1) TO ''x''' AS s", [{"s": ";COPY (SELECT 1) TO 'x'"}]),
        ("/* DROP */ WITH o AS (FROM silver.orders) SELECT count(*) AS n FROM o", [{"n": 4}]),
        ("SELECT count(*) AS n FROM read_csv('{land}/orders.csv', delim=';')", [{"n": 4}]),
        ("SELECT count(*) AS n FROM glob('{land}/*.csv')", [{"n": 2}]),
        ("VALUES (1)", [{"col0": 1}]),
    ],
)
def test_reads_of_tables_and_landing_files_still_work(shop: Path, unchanged: Path,
                                                      sql: str, expected: list[object]) -> None:
    result = query_project(load_project(shop), sql.format(land=shop / "landing"))
    assert result.to_pylist() == expected


@pytest.mark.parametrize(
    "sql",
    ["DESCRIBE silver.orders", "SUMMARIZE silver.orders", "SHOW TABLES",
     "EXPLAIN SELECT * FROM silver.orders", "EXPLAIN ANALYZE SELECT count(*) FROM silver.orders",
     "PIVOT silver.orders ON customer_id IN (1, 2) USING count(*)"],
)
def test_inspection_statements_still_work(shop: Path, unchanged: Path, sql: str) -> None:
    assert query_project(load_project(shop), sql).num_rows > 0


def test_a_pivot_without_values_is_two_statements_and_says_how_to_make_it_one(
    shop: Path, unchanged: Path
) -> None:
    message = refused(shop, "PIVOT silver.orders ON customer_id USING count(*)")
    assert "got 2 (CREATE, SELECT)" in message
    assert "list the pivoted values" in message


def test_readable_folders_are_the_warehouse_and_landing_folders(shop: Path) -> None:
    assert readable_folders(load_project(shop)) == [
        str(shop / "warehouse"), str(shop / "landing")
    ]


def test_the_reported_bypass_through_the_cli_writes_nothing(shop: Path, unchanged: Path) -> None:
    target = delta_log(shop) / "00000000000000000001.json"
    completed = run_afluente(
        ["-p", str(shop), "query", f"describe select 1; COPY (select 'x') TO '{target}'"]
    )
    assert completed.returncode == 1
    assert "runs exactly one read-only statement; got 2 (SELECT, COPY)" in completed.stderr
    assert not target.exists()
    history = run_afluente(["-p", str(shop), "--json", "history", "silver.orders"])
    assert history.returncode == 0, history.stderr
    assert [h["version"] for h in json.loads(history.stdout)] == [0]
