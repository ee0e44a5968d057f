"""Failures against real servers: each is reported clearly (no password), unreachable servers
are retried first, and the bronze table keeps its previous Delta version."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from afluente.config import load_project
from afluente.connectors import source_config
from afluente.errors import ConfigError
from conftest import _free_port

from .conftest import MariaDbServer
from .helpers import make_project, plain_url, run, version

SOURCE = "type: {kind}\nurl: ${{TEST_DB_URL}}\nretries: 2\nsource_table: orders\n"


def _failed_once_loaded(root: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> str:
    """Run once successfully, then with `url`: the error text; bronze stays at version 0."""
    assert run(root).status == "success"
    monkeypatch.setenv("TEST_DB_URL", url)
    result = run(root)
    assert result.status == "failed"
    assert version(root) == 0
    error = result.models[0].error
    assert error is not None
    return str(error)


@pytest.fixture
def pg_root(tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    url = plain_url(postgres_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int, amount int)")
        conn.execute("INSERT INTO orders VALUES (1, 10)")
    monkeypatch.setenv("TEST_DB_URL", url)
    return make_project(tmp_path / "p", SOURCE.format(kind="postgres"))


def test_pg_unreachable_is_retried_then_named(
    pg_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"postgresql://app:hunter2@127.0.0.1:{_free_port()}/shop"
    text = _failed_once_loaded(pg_root, monkeypatch, url)
    assert "source `orders`: cannot reach PostgreSQL at 127.0.0.1:" in text
    assert "(database `shop`) after 2 attempts" in text
    assert "hunter2" not in text


def test_pg_unknown_user_is_refused_at_once(pg_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = monkeypatch_env(monkeypatch)
    bad = good.replace("postgres@", "intruder:hunter2@", 1)
    text = _failed_once_loaded(pg_root, monkeypatch, bad)
    assert "source `orders`: PostgreSQL refused user `intruder`" in text
    assert "attempts" not in text and "hunter2" not in text


def monkeypatch_env(monkeypatch: pytest.MonkeyPatch) -> str:
    import os

    return os.environ["TEST_DB_URL"]


def test_pg_unknown_column_names_the_sql_problem(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = plain_url(postgres_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int, amount int)")
    monkeypatch.setenv("TEST_DB_URL", url)
    source = "type: postgres\nurl: ${TEST_DB_URL}\nquery: SELECT id, amount FROM orders\n"
    root = make_project(tmp_path / "p", source)
    assert run(root).status == "success"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE orders RENAME COLUMN amount TO total")
    result = run(root)
    assert result.status == "failed" and version(root) == 0
    text = str(result.models[0].error)
    assert "source `orders`: PostgreSQL at" in text
    assert 'rejected the query reading query: column "amount" does not exist' in text


def test_pg_unknown_table(pg_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(pg_root).status == "success"
    with psycopg.connect(monkeypatch_env(monkeypatch), autocommit=True) as conn:
        conn.execute("DROP TABLE orders")
    result = run(pg_root)
    assert result.status == "failed" and version(pg_root) == 0
    assert 'relation "orders" does not exist' in str(result.models[0].error)


@pytest.fixture
def my_root(
    tmp_path: Path,
    mariadb_server: MariaDbServer,
    mariadb_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    with mariadb_server.admin(mariadb_database) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE orders (id int, amount int)")
        cur.execute("INSERT INTO orders VALUES (1, 10)")
    monkeypatch.setenv("TEST_DB_URL", mariadb_server.url(mariadb_database))
    return make_project(tmp_path / "p", SOURCE.format(kind="mariadb"))


def test_mysql_wrong_password_is_refused_at_once(
    my_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    mariadb_server: MariaDbServer,
    mariadb_database: str,
) -> None:
    bad = mariadb_server.url(mariadb_database, password="hunter2")
    text = _failed_once_loaded(my_root, monkeypatch, bad)
    assert "source `orders`: MySQL/MariaDB refused user `afluente`" in text
    assert "Access denied" in text
    assert "attempts" not in text and "hunter2" not in text


def test_mysql_unreachable_is_retried(my_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"mysql://afluente:hunter2@127.0.0.1:{_free_port()}/shop"
    text = _failed_once_loaded(my_root, monkeypatch, url)
    assert "cannot reach MySQL/MariaDB at 127.0.0.1:" in text and "after 2 attempts" in text
    assert "hunter2" not in text


def test_mysql_unknown_table(
    my_root: Path, mariadb_server: MariaDbServer, mariadb_database: str
) -> None:
    assert run(my_root).status == "success"
    with mariadb_server.admin(mariadb_database) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE orders")
    result = run(my_root)
    assert result.status == "failed" and version(my_root) == 0
    assert "doesn't exist" in str(result.models[0].error)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("query: SELECT 1\n", "exactly one of `source_table` (a table) or `query`"),
        ("incremental: {cursor: id, lookback: soon}\n", "lookback 'soon' is not"),
        ("source_tabel: x\n", "unknown key `sources.orders.source_tabel`"),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, extra: str, message: str) -> None:
    root = make_project(
        tmp_path / "p", "type: postgres\nurl: postgresql://u@h/d\nsource_table: orders\n" + extra
    )
    with pytest.raises(ConfigError) as caught:
        source_config(load_project(root), "orders")
    assert message in str(caught.value)
    assert "afluente.yml:" in str(caught.value)
