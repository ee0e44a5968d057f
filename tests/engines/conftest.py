"""One Spark session for the whole test session: starting Spark takes tens of seconds, so
every Spark test (`tests/engines/spark/`, the Spark half of `tests/engines/contract/`)
shares it; each engine still works in a session of its own on top.

Without pyspark or Java the Spark tests skip, or fail under `CI=true`."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import require_component

from afluente.engines.settings import SparkSettings
from afluente.engines.spark_engine import SparkEngine

SETTINGS = SparkSettings(master="local[2]", conf={"spark.sql.shuffle.partitions": 2})


@pytest.fixture(scope="session")
def spark_started() -> Iterator[Any]:
    """The process's Spark, started once (`local[2]`, two shuffle partitions)."""
    if importlib.util.find_spec("pyspark") is None:
        require_component("pyspark", "pip install 'afluente[spark]'")
    if shutil.which("java") is None:
        require_component("Java", "Spark needs a Java 17 runtime")
    engine = SparkEngine(SETTINGS)
    yield engine.session
    engine.close()


@pytest.fixture
def spark_engine(spark_started: Any) -> Iterator[SparkEngine]:
    """A Spark engine of its own (its own temporary views) on the shared Spark."""
    engine = SparkEngine(SETTINGS)
    yield engine
    engine.close()
