"""`afluente validate` rejects bad schedules and sensors, naming the key's file:line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.scheduler.conftest import write_project

from afluente.config import load_project
from afluente.errors import ConfigError
from afluente.model import load_graph
from afluente.scheduler import validate_orchestration

GOOD_SENSOR = "sensors:\n  landed:\n    new_files: orders\n    select: bronze.orders+\n"


def error_for(tmp_path: Path, orchestration: str) -> ConfigError:
    project = load_project(write_project(tmp_path, orchestration))
    with pytest.raises(ConfigError) as caught:
        validate_orchestration(project, load_graph(project))
    return caught.value


def line_of(tmp_path: Path, text: str) -> int:
    lines = (tmp_path / "afluente.yml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


@pytest.mark.parametrize(
    ("orchestration", "key", "message", "hint"),
    [
        ("schedules:\n  nightly:\n    cron: '61 * * * *'\n", "cron:",
         "schedule `nightly`: invalid cron expression '61 * * * *'", "five fields"),
        ("schedules:\n  nightly:\n    cron: '0 6 * *'\n", "cron:",
         "4 fields, afluente schedules take 5", "'0 6 * * *'"),
        ("schedules:\n  nightly:\n    cron: '0 0 30 2 *'\n", "cron:",
         "cron expression '0 0 30 2 *' never fires", "30 February"),
        ("schedules:\n  nightly:\n    cron: '0 6 * * *'\n    timezone: America/Sao_Paolo\n",
         "timezone:", "schedule `nightly`: unknown timezone 'America/Sao_Paolo'",
         "`America/Sao_Paulo`"),
        ("schedules:\n  nightly:\n    cron: '0 6 * * *'\n    select: layer:platinum\n",
         "select:", "schedule `nightly`: selector `layer:platinum` matches no table", "bronze"),
        ("sensors:\n  landed:\n    new_files: order\n", "new_files:",
         "sensor `landed`: unknown source `order`", "`orders`"),
        ("sensors:\n  up:\n    new_version: silver.order\n", "new_version:",
         "sensor `up`: unknown table `silver.order`", "`silver.orders`"),
        ("sensors:\n  up:\n    new_version: silver.orders\n    select: silver.orders\n",
         "select:", "sensor `up` selects `silver.orders`, the table it watches", "downstream"),
    ],
)
def test_bad_orchestration_names_key_and_line(
    tmp_path: Path, orchestration: str, key: str, message: str, hint: str
) -> None:
    error = error_for(tmp_path, orchestration)
    assert message in error.message
    assert error.hint is not None and hint in error.hint
    assert error.location is not None
    assert error.location.file == tmp_path / "afluente.yml"
    assert error.location.line == line_of(tmp_path, key)


def test_files_sensor_on_a_database_source(tmp_path: Path) -> None:
    write_project(tmp_path, GOOD_SENSOR.replace("new_files: orders", "new_files: crm"))
    text = (tmp_path / "afluente.yml").read_text().replace(
        "sources:\n", "sources:\n  crm:\n    type: postgres\n"
        "    url: postgresql://x@localhost/crm\n    query: select 1 as id\n")
    (tmp_path / "afluente.yml").write_text(text)
    project = load_project(tmp_path)
    with pytest.raises(ConfigError) as caught:
        validate_orchestration(project, load_graph(project))
    assert "source `crm` is of type `postgres`; `new_files` watches a files source" in str(
        caught.value)
    assert caught.value.hint is not None and "new_version: bronze.crm" in caught.value.hint
    assert caught.value.location is not None
    assert caught.value.location.line == line_of(tmp_path, "new_files:")


def test_good_orchestration_validates(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path, GOOD_SENSOR + (
        "schedules:\n  gold:\n    cron: '0 6 * * *'\n    timezone: America/Sao_Paulo\n"
        "    select: layer:silver\n")))
    validate_orchestration(project, load_graph(project))


def test_afluente_validate_exits_2_with_file_and_line(tmp_path: Path) -> None:
    write_project(tmp_path, "schedules:\n  nightly:\n    cron: '0 25 * * *'\n")
    done = subprocess.run(
        [sys.executable, "-m", "afluente", "-p", str(tmp_path), "validate"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    line = line_of(tmp_path, "cron:")
    assert f"afluente.yml:{line}: schedule `nightly`: invalid cron expression '0 25 * * *'" in (
        done.stdout + done.stderr)
    assert "hint: five fields" in done.stdout + done.stderr
