"""Shared fixtures: real components started for the tests, never mocks.

* :func:`require_component` skips a test whose component is missing — or fails it when
  ``CI=true``, where every component must be present.
* ``postgres_server`` (session) starts a throwaway PostgreSQL cluster (`wal_level=logical`);
  ``postgres_url`` gives each test a fresh database on it as a ``postgresql+psycopg://`` URL;
  ``running_postgres`` starts another one with other settings.
* The hooks below send each group of tests to one pytest-xdist worker (tests/parallel.py).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from tests import parallel

_UNPRIVILEGED_USERS = ("postgres", "nobody")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def require_component(name: str, reason: str) -> NoReturn:
    """Skip the test for want of `name` — or fail it in CI, where it must be installed."""
    message = f"{name} is not available: {reason}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: every component must be installed)", pytrace=False)
    pytest.skip(message)


# -- pytest-xdist groups (tests/parallel.py) --------------------------------------------------


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: unknown without it
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    return parallel.make_scheduler(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    parallel.note_spark_before(item)
    wrong = parallel.wrong_group(item)
    if wrong is not None:
        pytest.fail(wrong, pytrace=False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    wrong = parallel.spark_started_here(item)
    if wrong is not None:
        pytest.fail(wrong, pytrace=False)


# -- PostgreSQL -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway PostgreSQL cluster (trust auth on 127.0.0.1)."""

    host: str
    port: int
    user: str

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    return str(candidates[0]) if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged OS user to run PostgreSQL as (it refuses root); None when not root."""
    if os.geteuid() != 0:
        return None
    for name in _UNPRIVILEGED_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    require_component("an unprivileged OS user", "PostgreSQL refuses to run as root")


def _run(args: list[str], user: pwd.struct_passwd | None, env: dict[str, str], cwd: Path) -> None:
    kwargs: dict[str, Any] = {"cwd": cwd}
    if user is not None:
        kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
    completed = subprocess.run(args, env=env, capture_output=True, text=True, **kwargs)
    if completed.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({completed.returncode}):\n"
            f"{completed.stdout}\n{completed.stderr}"
        )


@contextmanager
def running_postgres(settings: str = "") -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster in a temporary directory on a free port, with extra
    server `settings` (`-c name=value ...`); stopped and removed after."""
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        require_component("PostgreSQL server binaries", "initdb/pg_ctl not on PATH")
    user = _run_as()
    base = Path(tempfile.mkdtemp(prefix="afluente-pg-"))
    if user is not None:
        os.chown(base, user.pw_uid, user.pw_gid)
    data, log = base / "data", base / "server.log"
    env = {**os.environ, "LC_ALL": "C", "HOME": str(base)}
    port = _free_port()
    options = f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off -c full_page_writes=off {settings}"
    try:
        initdb_args = ["-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        _run([initdb, *initdb_args, "--no-sync"], user, env, base)
        start_args = ["-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60"]
        _run([pg_ctl, *start_args, "start"], user, env, base)
    except RuntimeError as error:
        log_text = log.read_text(errors="replace") if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {error}\n{log_text}", pytrace=False)
    try:
        yield PostgresServer(host="127.0.0.1", port=port, user="postgres")
    finally:
        try:
            _run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], user, env, base)
        finally:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL, with `wal_level=logical` so that log-based change capture
    (`type: postgres_cdc`, its replication slots) works on it too."""
    with running_postgres("-c wal_level=logical -c max_replication_slots=20") as server:
        yield server


_database_numbers = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A ``postgresql+psycopg://`` URL to a new, empty database on the test server."""
    try:
        import psycopg
    except ImportError:
        require_component("psycopg", "pip install 'afluente[postgres]'")
    database = f"test_{os.getpid()}_{next(_database_numbers)}"
    admin = f"host={postgres_server.host} port={postgres_server.port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    return postgres_server.url(database)
