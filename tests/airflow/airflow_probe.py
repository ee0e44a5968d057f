"""Runs INSIDE the Airflow virtualenv (never imported by pytest): load or run exported DAGs.

    python airflow_probe.py inspect DAG_FOLDER OUT_JSON
    python airflow_probe.py run DAG_FOLDER DAG_ID [DAG_ID ...] OUT_JSON

`inspect` loads the folder with Airflow's DagBag and writes what the tests compare: import
errors, and per DAG its schedule, timezone, catchup, tags and tasks (downstream ids,
retries, delays, timeout, command, documentation). `run` writes the same, then executes
one run of each DAG, in order, with `dag.test()` (AIRFLOW_HOME and
AIRFLOW__CORE__DAGS_FOLDER must point at a migrated database and at DAG_FOLDER) and adds
under "runs" each run's state and its task instances' states: one Airflow start-up for
both. JSON goes to a file because Airflow logs to stdout.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from typing import Any

from airflow.dag_processing.dagbag import DagBag


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _task(task: Any) -> dict[str, Any]:
    return {
        "downstream": sorted(task.downstream_task_ids),
        "retries": task.retries,
        "retry_delay": _seconds(task.retry_delay),
        "retry_exponential_backoff": bool(task.retry_exponential_backoff),
        "max_retry_delay": _seconds(task.max_retry_delay),
        "execution_timeout": _seconds(task.execution_timeout),
        "bash_command": task.bash_command,
        "doc_md": task.doc_md,
        "operator": type(task).__name__,
    }


def _dag(dag: Any) -> dict[str, Any]:
    timetable = dag.timetable
    return {
        "cron": getattr(timetable, "expression", None),
        "timezone": str(getattr(timetable, "timezone", "")) or None,
        "catchup": dag.catchup,
        "tags": sorted(dag.tags or ()),
        "start_date": dag.start_date.isoformat() if dag.start_date else None,
        "tasks": {task.task_id: _task(task) for task in dag.tasks},
    }


def _inspect(bag: Any) -> dict[str, Any]:
    return {
        "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "dags": {dag_id: _dag(dag) for dag_id, dag in bag.dags.items()},
    }


def inspect(folder: str) -> dict[str, Any]:
    return _inspect(DagBag(dag_folder=folder))


def run(folder: str, dag_ids: list[str]) -> dict[str, Any]:
    bag = DagBag(dag_folder=folder)
    result = _inspect(bag)
    if bag.import_errors:
        return result
    runs = {}
    for dag_id in dag_ids:
        dag_run = bag.dags[dag_id].test()
        runs[dag_id] = {
            "state": str(dag_run.state),
            "tasks": {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()},
        }
    return {**result, "runs": runs}


def main(argv: list[str]) -> None:
    command, folder, *rest, out_path = argv
    result = inspect(folder) if command == "inspect" else run(folder, rest)
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(result, out, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
