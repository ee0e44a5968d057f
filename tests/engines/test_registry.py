"""The engine registry: `engine:` validated by the engine's own settings model, the settings
reaching every engine a command creates, and third-party engines found through the
`afluente.engines` entry-point group of an installed package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.engines import DuckDBSettings, engine_settings, validate_engine
from afluente.errors import ConfigError, Location
from afluente.runtime.query import query_project

PLUGIN = Path(__file__).parent / "plugin" / "afluente_recording_engine"


def set_engine(root: Path, engine: str) -> None:
    config = root / "afluente.yml"
    config.write_text(config.read_text().replace("engine: duckdb", engine))


def afluente(root: Path, *args: str, site: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "afluente.cli", "-p", str(root), *args],
        capture_output=True, text=True, check=False, env=env,
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """The plugin installed as pip lays out a package: the module plus a dist-info whose
    entry_points.txt registers it (importlib.metadata finds it on sys.path)."""
    site = tmp_path / "site"
    shutil.copytree(PLUGIN, site / PLUGIN.name)
    info = site / "afluente_recording_engine-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: afluente-recording-engine\nVersion: 0.1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[afluente.engines]\nrecording = afluente_recording_engine:RecordingEngine\n"
    )
    return site


def test_a_plugin_engine_runs_the_project(tmp_path: Path, site: Path) -> None:
    root = tmp_path / "shop"
    scaffold(root)
    log = tmp_path / "computed.log"
    set_engine(root, f"engine: {{type: recording, log: '{log}', threads: 1}}")

    built = afluente(root, "run", site=site)

    assert built.returncode == 0, built.stderr
    computed = set(log.read_text().split())
    assert {"silver.orders", "silver.customers", "gold.revenue_by_state"} <= computed
    rows = afluente(root, "--json", "query", "select count(*) as n from silver.orders", site=site)
    assert rows.stdout.strip() == '[{"n": 4}]'


def test_a_plugin_engine_checks_its_own_keys(tmp_path: Path, site: Path) -> None:
    root = tmp_path / "shop"
    scaffold(root)
    set_engine(root, "engine: {type: recording, lgo: computed.log}")

    checked = afluente(root, "validate", site=site)

    assert checked.returncode == 2  # a config error
    line = next(n for n, text in enumerate((root / "afluente.yml").read_text().splitlines(), 1)
                if text.startswith("engine:"))
    assert f"afluente.yml:{line}" in checked.stderr
    assert "unknown key `engine.lgo`" in checked.stderr
    assert "did you mean `log`?" in checked.stderr


def test_without_the_plugin_installed_its_type_is_unknown(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    scaffold(root)
    set_engine(root, "engine: {type: recording, log: x.log}")

    checked = afluente(root, "run")

    assert checked.returncode == 2
    assert "no engine of type `recording`" in checked.stderr
    assert "available engines: duckdb" in checked.stderr
    assert not (root / "warehouse").exists()


def test_memory_limit_reaches_the_engines_of_every_command(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    scaffold(root)
    set_engine(root, "engine: {type: duckdb, threads: 1, memory_limit: 300MB}")
    expected = duckdb.connect(config={"memory_limit": "300MB"}).sql(
        "select current_setting('memory_limit')").fetchone()
    assert afluente(root, "run").returncode == 0

    project = load_project(root)
    found = query_project(project, "select current_setting('memory_limit') as m, "
                                   "current_setting('threads') as t").to_pylist()

    assert engine_settings(project) == DuckDBSettings(threads=1, memory_limit="300MB")
    assert expected is not None and found == [{"m": expected[0], "t": 1}]


def test_an_environments_engine_error_names_its_own_line(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "afluente.yml").write_text(
        "name: p\nengine: {threads: 2}\nenvironments:\n  prod:\n    engine:\n"
        "      threads: 4\n      memory_limt: 8GB\n"
    )
    validate_engine(load_project(root))  # the base engine is fine

    with pytest.raises(ConfigError) as caught:
        validate_engine(load_project(root, "prod"))

    assert caught.value.message == "unknown key `environments.prod.engine.memory_limt`"
    assert caught.value.location == Location(root / "afluente.yml", 7)
    assert caught.value.hint is not None and "did you mean `memory_limit`?" in caught.value.hint
