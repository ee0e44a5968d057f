"""Fixtures for the database connectors: a real MariaDB server, and helpers to seed tables.

``mariadb_server`` (session) initialises a data directory in a temporary folder, starts
``mariadbd`` on a free port and creates a password-protected user, so the tests exercise real
TCP connections and real authentication. PostgreSQL comes from ``tests/conftest.py``.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import _free_port, require_component

MARIADB_USER = "afluente"
MARIADB_PASSWORD = "s3cret-pw"


@dataclass(frozen=True)
class MariaDbServer:
    """A running throwaway MariaDB (user `afluente` with a password, on 127.0.0.1)."""

    host: str
    port: int
    socket: str
    user: str = MARIADB_USER
    password: str = MARIADB_PASSWORD

    def url(self, database: str, password: str | None = None) -> str:
        secret = self.password if password is None else password
        return f"mysql://{self.user}:{secret}@{self.host}:{self.port}/{database}"

    def admin(self, database: str | None = None) -> Any:
        """A root connection over the server's socket (autocommit)."""
        import pymysql

        return pymysql.connect(
            unix_socket=self.socket, user="root", database=database, autocommit=True
        )


def _binary(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or next(
            (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()),
            None,
        )
        if found:
            return found
    return None


def _wait_for(server: MariaDbServer, process: subprocess.Popen[bytes], log: Path) -> None:
    import pymysql

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mariadbd exited:\n{log.read_text(errors='replace')}", pytrace=False)
        try:
            server.admin().close()
            return
        except pymysql.err.OperationalError:
            time.sleep(0.2)
    process.kill()
    pytest.fail(f"mariadbd did not start in 60 s:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaDbServer]:
    """Start MariaDB in a temporary directory on a free port; stop and remove it after."""
    server_bin = _binary("mariadbd", "mysqld")
    install_db = _binary("mariadb-install-db", "mysql_install_db")
    if server_bin is None or install_db is None:
        require_component("MariaDB server", "mariadbd/mariadb-install-db not on PATH")
    try:
        import pymysql  # noqa: F401
    except ImportError:
        require_component("pymysql", "pip install 'afluente[mysql]'")
    base = Path(tempfile.mkdtemp(prefix="afluente-mariadb-"))
    data, log, sock = base / "data", base / "server.log", base / "mysqld.sock"
    user = ["--user=root"] if os.geteuid() == 0 else []
    install = subprocess.run(
        [
            install_db,
            "--no-defaults",
            f"--datadir={data}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            *user,
        ],
        capture_output=True,
        text=True,
    )
    if install.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"mariadb-install-db failed:\n{install.stdout}\n{install.stderr}")
    port = _free_port()
    args = [
        server_bin,
        "--no-defaults",
        f"--datadir={data}",
        f"--socket={sock}",
        f"--port={port}",
        "--bind-address=127.0.0.1",
        f"--log-error={log}",
        f"--pid-file={base / 'mysqld.pid'}",
        "--skip-log-bin",
        "--innodb-buffer-pool-size=64M",
        "--skip-name-resolve",
        *user,
    ]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = MariaDbServer(host="127.0.0.1", port=port, socket=str(sock))
    try:
        _wait_for(server, process, log)
        with server.admin() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE USER '{MARIADB_USER}'@'%' IDENTIFIED BY '{MARIADB_PASSWORD}'")
            cur.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{MARIADB_USER}'@'%'")
        yield server
    finally:
        # a throwaway server whose files are deleted next: no clean shutdown to wait for
        # (flushing InnoDB on SIGTERM took up to 30 s at the end of the suite)
        process.kill()
        process.wait()
        shutil.rmtree(base, ignore_errors=True)


_database_numbers = itertools.count(1)


@pytest.fixture
def mariadb_database(mariadb_server: MariaDbServer) -> str:
    """A new, empty database on the MariaDB test server (its name)."""
    database = f"test_{os.getpid()}_{next(_database_numbers)}"
    with mariadb_server.admin() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{database}`")
    return database
