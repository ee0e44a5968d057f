"""`engine: {type: spark, ...}`: settings checked at load time without importing pyspark,
and every way Spark cannot start is a quick, clear error (no Spark is started here)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.engines import engine_settings, validate_engine
from afluente.engines.settings import SparkSettings
from afluente.engines.spark_engine import SparkEngine
from afluente.engines.spark_session import INSTALL_HINT, require_java, spark_session
from afluente.errors import ConfigError, EngineError


def project_with(tmp_path: Path, engine: str) -> Path:
    root = tmp_path / "shop"
    scaffold(root)
    config = root / "afluente.yml"
    config.write_text(config.read_text().replace("engine: duckdb", engine))
    return root


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_spark_settings_load_without_importing_pyspark(tmp_path: Path) -> None:
    root = project_with(
        tmp_path, "engine: {type: spark, master: 'local[*]', conf: {spark.executor.memory: 2g}}"
    )
    code = (
        "import sys; from afluente.config import load_project; "
        "from afluente.engines import engine_settings; "
        f"s = engine_settings(load_project({str(root)!r})); "
        "print(s.master, s.conf, 'pyspark' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout

    assert out.strip() == "local[*] {'spark.executor.memory': '2g'} False"


def test_a_bad_master_names_the_line(tmp_path: Path) -> None:
    root = project_with(tmp_path, "engine: {type: spark, master: yarn}")

    with pytest.raises(ConfigError) as raised:
        validate_engine(load_project(root))

    line = next(n for n, text in enumerate((root / "afluente.yml").read_text().splitlines(), 1)
                if "yarn" in text)
    assert f"afluente.yml:{line}" in str(raised.value)
    assert "master" in str(raised.value)


def test_connect_url_and_app_name_are_settings(tmp_path: Path) -> None:
    root = project_with(tmp_path, "engine: {type: spark, connect_url: 'sc://h:15002', "
                                  "app_name: nightly}")

    settings = engine_settings(load_project(root))

    assert settings == SparkSettings(connect_url="sc://h:15002", app_name="nightly")


@pytest.mark.parametrize("url", ["spark://127.0.0.1:{port}", "sc://127.0.0.1:{port}"])
def test_an_unreachable_master_or_connect_url_fails_naming_it(url: str) -> None:
    url = url.format(port=closed_port())
    key = "connect_url" if url.startswith("sc://") else "master"
    engine = SparkEngine(SparkSettings(**{key: url}))

    with pytest.raises(EngineError) as raised:
        engine.query("SELECT 1")

    assert f"cannot reach Spark at {url}" in str(raised.value)
    assert "Connection refused" in str(raised.value)
    assert "start the Spark master" in (raised.value.hint or "")


def test_missing_java_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `java` on it
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))

    with pytest.raises(EngineError) as raised:
        require_java()

    assert "needs Java" in raised.value.message
    assert f"JAVA_HOME={tmp_path / 'jdk'} has no bin/java" in raised.value.message
    assert "openjdk-17-jre-headless" in (raised.value.hint or "")


def test_missing_pyspark_gives_the_pip_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # as if pyspark were not installed

    with pytest.raises(EngineError) as raised:
        spark_session(SparkSettings(master="local[1]"))

    assert "needs pyspark" in raised.value.message
    assert raised.value.hint == INSTALL_HINT == "pip install 'afluente[spark]'"
