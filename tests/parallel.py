"""Which tests run together on one pytest-xdist worker (`make unit`: `-n 2 --dist loadgroup`).

Each test module is one unit of work, so its module-scoped fixtures are built once. The
modules that start an expensive component form one unit per component (`GROUPS`), so each
component is still started once per run, on one worker:

* ``spark``: the modules under ``tests/engines/spark/`` and the Spark half of the contract
  suite (``tests/engines/contract/``, tests whose id ends in ``[spark]``);
* ``broker``: the modules under ``tests/streaming/`` (the Kafka broker);
* ``airflow``: ``tests/airflow/`` (the Airflow virtualenv and its metadata database);
* ``browser``: ``tests/ui/`` (one headless Chromium driven by Playwright).

Two Spark modules start no Spark in the pytest process (their drivers are subprocesses: the
standalone cluster's CLI runs, the Connect server), so each is a unit of its own
(``spark-cluster``, ``spark-connect``) and runs on the other worker while the ``spark``
group holds its session.

Units start heaviest first (:data:`IDLE_SECONDS`, measured idle; the others by their number
of tests), so the long ones do not end up last on one worker while the other waits.

The scheduler (:class:`GroupScheduling`) sees only test ids, so the groups are named by
path: a new module that starts Spark, the broker or Airflow is in one of those folders or
is added to `GROUPS`. `wrong_group` checks that at setup: a test using ``spark_started``,
``kafka_broker`` or ``airflow`` outside that component's group fails and says what to add,
and so does a test that started Spark in the pytest process (:func:`spark_started_here`).
"""

from __future__ import annotations

import sys

import pytest

SPARK, BROKER, AIRFLOW, BROWSER = "spark", "broker", "airflow", "browser"
SPARK_CLUSTER, SPARK_CONNECT = "spark-cluster", "spark-connect"
# path prefix of a test module -> the group its tests run in (the longest prefix wins)
GROUPS: dict[str, str] = {
    "tests/engines/spark/": SPARK,
    "tests/engines/spark/test_spark_cluster.py": SPARK_CLUSTER,
    "tests/engines/spark/test_spark_connect.py": SPARK_CONNECT,
    "tests/streaming/": BROKER,
    "tests/airflow/": AIRFLOW,
    "tests/ui/": BROWSER,
}
# the units' summed test time on an idle 2-core machine (docs/contributing.md), seconds
IDLE_SECONDS: dict[str, float] = {
    SPARK: 330.0,
    SPARK_CLUSTER: 290.0,
    "tests/cli/test_exit_stress.py": 118.0,
    SPARK_CONNECT: 110.0,
    AIRFLOW: 80.0,
    BROKER: 75.0,
    "tests/scheduler/test_sdp_export.py": 25.0,
    "tests/runtime/test_maintenance.py": 90.0,
}
PARAMETRIZED_BY_ENGINE = "tests/engines/contract/"  # [spark] tests join the spark group
GROUP_OF_FIXTURE = {"spark_started": SPARK, "kafka_broker": BROKER, "airflow": AIRFLOW}


def group_of(nodeid: str) -> str:
    """The unit of work of the test `nodeid`: its component's group, else its module."""
    module, _, rest = nodeid.partition("::")
    if module.startswith(PARAMETRIZED_BY_ENGINE) and SPARK in _params(rest):
        return SPARK
    prefixes = [prefix for prefix in GROUPS if module.startswith(prefix)]
    return GROUPS[max(prefixes, key=len)] if prefixes else module


def _params(rest: str) -> list[str]:
    _, bracket, params = rest.partition("[")
    return params.removesuffix("]").split("-") if bracket else []


def wrong_group(item: pytest.Item) -> str | None:
    """Why `item` cannot run in its group (a component fixture of another group), or None."""
    group = group_of(item.nodeid)
    fixtures = getattr(item, "fixturenames", ())
    needed = sorted({g for fixture, g in GROUP_OF_FIXTURE.items() if fixture in fixtures})
    for component in needed:
        if component != group:
            return _advice(item.nodeid, group, component)
    return None


def _advice(nodeid: str, group: str, component: str) -> str:
    module = nodeid.partition("::")[0]
    return (f"{nodeid} starts {component!r} but runs in the xdist group {group!r}: add "
            f"'{module}': {component!r} to GROUPS in tests/parallel.py (docs/contributing.md)")


def spark_running() -> bool:
    """Whether this process has a SparkContext (without importing pyspark)."""
    if "pyspark" not in sys.modules:
        return False
    from pyspark import SparkContext

    return SparkContext._active_spark_context is not None


_spark_before = pytest.StashKey[bool]()


def note_spark_before(item: pytest.Item) -> None:
    item.stash[_spark_before] = spark_running()


def spark_started_here(item: pytest.Item) -> str | None:
    """Why `item` may not have started Spark in this process, or None."""
    if item.stash.get(_spark_before, True) or not spark_running():
        return None
    group = group_of(item.nodeid)
    return None if group == SPARK else _advice(item.nodeid, group, SPARK)


def heaviest_first(workqueue: dict[str, dict[str, bool]]) -> None:
    """Reorder xdist's queue of units in place: the measured heavy ones by their idle time,
    then the rest by their number of tests."""
    order = sorted(workqueue.items(),
                   key=lambda unit: (-IDLE_SECONDS.get(unit[0], 0.0), -len(unit[1])))
    workqueue.clear()
    workqueue.update(order)


def make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`--dist loadgroup` with the groups above; None (xdist's own) for other modes."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """Whole groups to one worker, the heaviest first."""

        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

        def _assign_work_unit(self, node: object) -> None:
            if not getattr(self, "_ordered", False):
                heaviest_first(self.workqueue)
                self._ordered = True
            super()._assign_work_unit(node)  # type: ignore[arg-type]

    return GroupScheduling(config, log)
