"""The afluente side of the Beam I/O (`afluente.io.beam.bundles`), in-process: it imports
no Beam, so these run in the main venv."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from afluente.config import load_project
from afluente.errors import ConfigError, ConnectorError
from afluente.io.beam.bundles import BundleSchemaError, BundleWriter, WritePlan
from afluente.model import TableRef
from afluente.runtime.contracts import ContractError
from afluente.state import StateStore
from afluente.storage import Warehouse


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "afluente.yml").write_text("name: bundles\n", encoding="utf-8")
    return tmp_path


def table(project: Path, name: str) -> list[dict[str, object]]:
    warehouse = Warehouse(load_project(project).warehouse_uri)
    found = warehouse.dataset(TableRef.parse(name)).to_table().to_pylist()
    return sorted(found, key=lambda r: str(r["id"]))


def test_a_merge_sets_only_the_columns_it_has_and_a_retry_is_a_no_op(project: Path) -> None:
    writer = BundleWriter(WritePlan(str(project), "gold.people", "p", keys=("id",),
                                    create=True))
    writer.commit([{"id": 1, "name": "ana", "uf": "SP"}, {"id": 2, "name": "bia", "uf": "RJ"}],
                  "beam-p-1", {})
    second = [{"id": 2, "uf": "MG"}, {"id": 3, "uf": "BA"}, {"id": 2, "uf": "PR"}]
    done = writer.commit(second, "beam-p-2", {})
    again = writer.commit(second, "beam-p-2", {})
    assert (done["already_written"], again["already_written"]) == (False, True)
    assert again["version"] == done["version"] == 1
    assert table(project, "gold.people") == [  # the group's last row of a key wins
        {"id": 1, "name": "ana", "uf": "SP"}, {"id": 2, "name": "bia", "uf": "PR"},
        {"id": 3, "name": None, "uf": "BA"}]


def test_a_retry_closes_the_run_its_first_attempt_left_open(project: Path) -> None:
    """The first attempt committed and died before recording its run as finished."""
    writer = BundleWriter(WritePlan(str(project), "bronze.events", "p", create=True))
    rows = [{"id": 1}, {"id": 2}]
    with StateStore.open(load_project(project).state_url) as state:
        state.start_run("beam-p-9", "bundles", "bronze.events", {})
        state.start_model_run("beam-p-9", "bronze.events", "")
    writer._write(writer.arrow(rows), "beam-p-9")  # the commit, and no record of it
    assert writer.commit(rows, "beam-p-9", {})["already_written"] is True
    with StateStore.open(load_project(project).state_url) as state:
        run = state.get_run("beam-p-9")
    assert run.status == "success"
    assert [(m.rows_written, m.version_written) for m in run.models] == [(2, 0)]
    assert table(project, "bronze.events") == [{"id": 1}, {"id": 2}]


def test_a_column_the_table_lacks_is_named_and_the_version_kept(project: Path) -> None:
    writer = BundleWriter(WritePlan(str(project), "bronze.events", "p", create=True))
    writer.commit([{"id": 1, "uf": "SP"}], "beam-p-1", {})
    with pytest.raises(BundleSchemaError) as refused:
        writer.commit([{"id": 2, "uf": "RJ", "region": "sudeste"}], "beam-p-2", {})
    assert "column `region` is not a column of `bronze.events`" in str(refused.value)
    assert "its columns: id, uf" in str(refused.value)
    assert Warehouse(load_project(project).warehouse_uri).version(
        TableRef.parse("bronze.events")) == 0
    assert table(project, "bronze.events") == [{"id": 1, "uf": "SP"}]


def test_a_declared_contract_is_checked_before_the_commit(project: Path) -> None:
    model = project / "models" / "gold" / "big_spenders.sql"
    model.parent.mkdir(parents=True)
    model.write_text("/* @config\ncontract: enforced\ncolumns:\n  customer: {type: VARCHAR}"
                     "\n  total: {type: DOUBLE}\n*/\nselect 'a' as customer, 1.0 as total\n")
    writer = BundleWriter(WritePlan(str(project), "gold.big_spenders", "p"))
    with pytest.raises(ContractError) as refused:
        writer.commit([{"customer": "ana", "total": 5}], "beam-p-1", {})
    assert "big_spenders.sql:1" in str(refused.value)
    assert "column total: expected DOUBLE, got BIGINT" in str(refused.value)
    assert not Warehouse(load_project(project).warehouse_uri).exists(
        TableRef.parse("gold.big_spenders"))


def test_a_pipeline_id_that_cannot_name_runs_is_refused(project: Path) -> None:
    with pytest.raises(ConfigError, match=r"pipeline id 'daily/2026' cannot name afluente"):
        BundleWriter(WritePlan(str(project), "bronze.events", "daily/2026", create=True))


@pytest.mark.skipif(importlib.util.find_spec("apache_beam") is not None,
                    reason="apache_beam is installed here")
def test_the_transforms_without_beam_give_the_install_command() -> None:
    with pytest.raises(ConnectorError, match=r"pip install 'afluente\[beam\]'"):
        from afluente.io.beam import WriteToAfluente  # noqa: F401
