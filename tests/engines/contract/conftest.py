"""The engine contract suite: every test here runs once per engine in `ENGINES`, with the
same assertions (SQLMesh's integration-suite pattern).

An engine joins the suite with one line in `ENGINES`: its name, and the `engine:` entry of
`afluente.yml` that selects it (the projects the suite builds put it in their config; the
Workspace tests create the engine from the same settings). Every engine must pass every test;
where an engine genuinely differs, the test is marked `xfail(strict=True)` for that engine
with a reason naming the difference, never skipped. See docs/write-an-engine.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from afluente.engines import Engine, create_engine
from afluente.engines.registry import factory_for

ENGINES: dict[str, str] = {
    "duckdb": "engine: duckdb",
    "spark": "engine: {type: spark, master: 'local[2]', conf: {spark.sql.shuffle.partitions: 2}}",
}
# engines started once per test session by a fixture of their own (tests/engines/conftest.py)
STARTED_BY = {"spark": "spark_started"}


@pytest.fixture(scope="module", params=list(ENGINES))
def engine_name(request: pytest.FixtureRequest) -> str:
    """The engine under test: each module of the suite runs once per engine."""
    name: str = request.param
    if name in STARTED_BY:
        request.getfixturevalue(STARTED_BY[name])
    return name


@pytest.fixture(scope="module")
def engine_config(engine_name: str) -> str:
    """The `engine:` line of `afluente.yml` selecting the engine under test."""
    return ENGINES[engine_name]


@pytest.fixture
def engine(engine_name: str) -> Iterator[Engine]:
    """A fresh engine of the kind under test (its own temporary tables and views)."""
    settings: dict[str, Any] = yaml.safe_load(ENGINES[engine_name])["engine"]
    if isinstance(settings, str):
        settings = {"type": settings}
    model = factory_for(settings["type"]).config_model
    created = create_engine(model.model_validate(settings))
    yield created
    created.close()
