"""Real Apache Airflow for the export tests, in its own virtualenv (`.venv-airflow/`).

Airflow's pins clash with afluente's, so it never enters `.venv`: `scripts/ensure-airflow.sh`
creates or reuses the separate venv (a stamp file makes later calls instant) and every
Airflow step runs there as a subprocess (`airflow_probe.py`). Without it the tests skip —
or fail under `CI=true`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import require_component

from afluente.demo.build import prepare_demo

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("airflow_probe.py")
AFLUENTE_BIN = str(Path(sys.executable).with_name("afluente"))


@dataclass(frozen=True)
class Airflow:
    """The Airflow venv's python, and a migrated metadata database to copy per run."""

    python: Path
    database: Path

    def env(self, home: Path, dags: Path) -> dict[str, str]:
        return {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        }

    def probe(self, home: Path, *args: str) -> dict[str, Any]:
        """Run `airflow_probe.py` in the Airflow venv; its JSON result."""
        home.mkdir(parents=True, exist_ok=True)
        out = home / "probe.json"
        dags = Path(args[1])
        done = subprocess.run([str(self.python), str(PROBE), *args, str(out)],
                              env=self.env(home, dags), cwd=home, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        result: dict[str, Any] = json.loads(out.read_text())
        return result

    def inspect(self, home: Path, dags: Path) -> dict[str, Any]:
        """What Airflow's DagBag makes of the DAG files in `dags`."""
        return self.probe(home, "inspect", str(dags))

    def run(self, home: Path, dags: Path, *dag_ids: str) -> dict[str, Any]:
        """What `inspect` gives, and under "runs" one `dag.test()` run of each DAG, in order,
        on a fresh copy of the metadata database: per DAG id its run's state and its task
        instances' states (one Airflow process for both)."""
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.database, home / "airflow.db")
        return self.probe(home, "run", str(dags), *dag_ids)


@pytest.fixture(scope="session")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Airflow:
    """Apache Airflow installed (once) in `.venv-airflow/`, with a migrated SQLite database."""
    if shutil.which("bash") is None:
        require_component("Apache Airflow", "bash is needed to run scripts/ensure-airflow.sh")
    made = subprocess.run(["bash", str(REPO / "scripts" / "ensure-airflow.sh")],
                          capture_output=True, text=True)
    if made.returncode != 0:
        require_component("Apache Airflow", "scripts/ensure-airflow.sh failed:\n"
                          + made.stderr[-3000:])
    python = Path(made.stdout.strip().splitlines()[-1])
    home = tmp_path_factory.mktemp("airflow-home")
    env = Airflow(python, home / "airflow.db").env(home, home / "dags")
    migrated = subprocess.run([str(python.with_name("airflow")), "db", "migrate"], env=env,
                              cwd=home, capture_output=True, text=True, timeout=600)
    assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
    return Airflow(python, home / "airflow.db")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project (500 orders), laid out once for the module and not built: exporting
    needs only its files, and Airflow's run builds every table itself."""
    root = tmp_path_factory.mktemp("demo") / "shop"
    prepare_demo(root, orders=500)
    return root
