"""The xdist groups (tests/parallel.py): what starts a component runs on that component's
worker, everything else is scheduled module by module."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from tests.parallel import group_of, heaviest_first, wrong_group


@pytest.mark.parametrize(("nodeid", "group"), [
    ("tests/engines/spark/test_spark_cluster.py::test_a_killed_run_leaves_every_table_whole",
     "spark-cluster"),
    ("tests/engines/spark/test_spark_demo.py::test_demo_builds", "spark"),
    ("tests/ui/test_pages.py::test_graph", "browser"),
    ("tests/engines/contract/test_project.py::test_run_one_builds[spark]", "spark"),
    ("tests/engines/contract/test_project.py::test_run_one_builds[duckdb]",
     "tests/engines/contract/test_project.py"),
    ("tests/streaming/test_stream_kill.py::test_kill_9", "broker"),
    ("tests/airflow/test_airflow_export.py::test_demo_schedules_load_in_airflow", "airflow"),
    ("tests/cli/test_query_security.py::test_refused[spark]", "tests/cli/test_query_security.py"),
    ("tests/runtime/test_run.py::Test::test_x", "tests/runtime/test_run.py"),
])
def test_each_test_runs_in_its_components_group_or_its_module(nodeid: str, group: str) -> None:
    assert group_of(nodeid) == group


def test_a_module_using_the_broker_elsewhere_is_told_what_to_add() -> None:
    item = SimpleNamespace(nodeid="tests/server/test_live.py::test_feed",
                           fixturenames=["tmp_path", "kafka_broker"])

    assert wrong_group(item) == (  # type: ignore[arg-type]
        "tests/server/test_live.py::test_feed starts 'broker' but runs in the xdist group "
        "'tests/server/test_live.py': add 'tests/server/test_live.py': 'broker' to GROUPS in "
        "tests/parallel.py (docs/contributing.md)")
    item.nodeid = "tests/streaming/test_live.py::test_feed"
    assert wrong_group(item) is None  # type: ignore[arg-type]


def test_units_start_heaviest_first_then_by_their_number_of_tests() -> None:
    queue = {
        "tests/a.py": {"t1": False},
        "tests/b.py": {"t1": False, "t2": False, "t3": False},
        "broker": {"t1": False},
        "spark": {"t1": False, "t2": False},
        "tests/c.py": {"t1": False, "t2": False},
    }

    heaviest_first(queue)

    assert list(queue) == ["spark", "broker", "tests/b.py", "tests/c.py", "tests/a.py"]
    assert queue["tests/b.py"] == {"t1": False, "t2": False, "t3": False}
