"""Incremental file ingestion: each file once, progress in the same commit, schema policy,
rescued values and changed files."""

from __future__ import annotations

import json
import os
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from afluente.config import load_project
from afluente.model import TableRef
from afluente.runtime import plan_project, run_project
from afluente.storage import Warehouse

REF = TableRef("bronze", "events")


def make_project(root: Path, source: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "landing").mkdir(exist_ok=True)
    (root / "afluente.yml").write_text(
        textwrap.dedent("""\
        name: ingest
        sources:
          events:
            type: files
            path: landing/*.csv
        """)
        + textwrap.indent(textwrap.dedent(source), "    "),
        encoding="utf-8",
    )
    return root


def land(root: Path, name: str, text: str, mtime: int | None = None) -> None:
    path = root / "landing" / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def bronze(root: Path) -> pa.Table:
    project = load_project(root)
    return Warehouse(project.warehouse_uri).dataset(REF).to_table()


def rows(root: Path, *columns: str) -> list[tuple[Any, ...]]:
    table = bronze(root)
    found = list(zip(*(table.column(c).to_pylist() for c in columns), strict=True))
    return sorted(found, key=repr)


def version(root: Path) -> int | None:
    return Warehouse(load_project(root).warehouse_uri).version(REF)


def run(root: Path, **kwargs: Any) -> Any:
    result = run_project(load_project(root), **kwargs)
    return result


def test_each_file_is_ingested_once_and_recorded_in_its_commit(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    land(root, "a.csv", "id,v\n1,x\n2,y\n")
    assert run(root).status == "success"
    land(root, "b.csv", "id,v\n3,z\n")
    second = run(root)
    (model,) = second.models
    assert (model.status, model.rows, model.version) == ("success", 1, 1)
    assert rows(root, "id", "_source") == [
        ("1", "landing/a.csv"), ("2", "landing/a.csv"), ("3", "landing/b.csv")
    ]
    warehouse = Warehouse(load_project(root).warehouse_uri)
    progress = [c.progress for c in warehouse.history(REF)]
    assert [sorted(p["files"]) for p in progress if p] == [["landing/b.csv"], ["landing/a.csv"]]

    third = run(root)
    assert third.models[0].status == "up_to_date"
    assert version(root) == 1  # nothing new: no commit at all


def test_plan_says_how_many_files_are_new(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    land(root, "a.csv", "id\n1\n")
    run(root)
    land(root, "b.csv", "id\n2\n")
    land(root, "c.csv", "id\n3\n")
    (step,) = plan_project(load_project(root)).plan.steps
    assert (step.action, step.reason) == ("run", "new data (2 new, 0 changed of 3 files)")
    run(root)
    (step,) = plan_project(load_project(root)).plan.steps
    assert (step.action, step.reason) == ("skip", "no new data (0 new, 0 changed of 3 files)")


def test_full_refresh_reloads_every_file_in_one_overwrite(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    land(root, "a.csv", "id\n1\n")
    run(root)
    land(root, "b.csv", "id\n2\n")
    run(root)
    result = run(root, full_refresh=True)
    assert result.models[0].rows == 2
    assert rows(root, "id") == [("1",), ("2",)]
    # after the reload, the progress starts from that commit: nothing pending
    assert run(root).models[0].status == "up_to_date"


def test_changed_file_replaces_its_rows_in_the_same_commit(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    land(root, "a.csv", "id,v\n1,old\n2,old\n", mtime=1_700_000_000)
    land(root, "b.csv", "id,v\n9,keep\n", mtime=1_700_000_000)
    run(root)
    land(root, "a.csv", "id,v\n1,new\n", mtime=1_700_000_100)
    result = run(root)
    assert result.models[0].version == 1
    assert rows(root, "id", "v") == [("1", "new"), ("9", "keep")]


def test_a_changed_file_and_a_new_file_land_in_one_commit(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    land(root, "a.csv", "id,v\n1,old\n2,old\n", mtime=1_700_000_000)
    land(root, "b.csv", "id,v\n9,keep\n", mtime=1_700_000_000)
    run(root)
    land(root, "a.csv", "id,v\n1,new\n", mtime=1_700_000_100)
    land(root, "c.csv", "id,v\n5,added\n", mtime=1_700_000_100)

    result = run(root)

    assert result.models[0].status == "success", result.models[0].reason
    assert result.models[0].version == 1
    assert rows(root, "id", "v") == [("1", "new"), ("5", "added"), ("9", "keep")]
    assert run(root).models[0].status == "up_to_date"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("append", [("1", "new"), ("1", "old"), ("9", "keep")]),
        ("ignore", [("1", "old"), ("9", "keep")]),
    ],
)
def test_changed_file_policies(tmp_path: Path, policy: str, expected: list[Any]) -> None:
    root = make_project(tmp_path / "p", f"changed_files: {policy}\n")
    land(root, "a.csv", "id,v\n1,old\n", mtime=1_700_000_000)
    land(root, "b.csv", "id,v\n9,keep\n", mtime=1_700_000_000)
    run(root)
    land(root, "a.csv", "id,v\n1,new\n", mtime=1_700_000_100)
    run(root)
    assert rows(root, "id", "v") == expected


def test_changed_file_fails_when_asked_and_writes_nothing(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "changed_files: fail\n")
    land(root, "a.csv", "id\n1\n", mtime=1_700_000_000)
    run(root)
    land(root, "a.csv", "id\n2\n", mtime=1_700_000_100)
    land(root, "b.csv", "id\n3\n")
    result = run(root)
    (failed,) = result.failed
    assert "file `landing/a.csv` changed after it was ingested" in failed.reason
    assert failed.error is not None and failed.error.hint is not None
    assert "changed_files: replace | append | ignore" in failed.error.hint
    assert version(root) == 0
    assert rows(root, "id") == [("1",)]


def test_new_columns_evolve_the_bronze_schema(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    land(root, "a.csv", "id\n1\n")
    run(root)
    land(root, "b.csv", "id,extra\n2,e\n")
    run(root)
    assert rows(root, "id", "extra") == [("1", None), ("2", "e")]
    assert bronze(root).column_names[:3] == ["id", "_rescued_data", "_source"]


def test_rescue_policy_keeps_new_columns_in_rescued_data(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "schema_evolution: rescue\n")
    land(root, "a.csv", "id\n1\n")
    run(root)
    land(root, "b.csv", "id,extra\n2,e\n")
    run(root)
    table = bronze(root)
    assert "extra" not in table.column_names
    assert rows(root, "id", "_rescued_data") == [("1", None), ("2", '{"extra":"e"}')]


def test_fail_policy_refuses_new_columns_and_keeps_the_previous_version(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "schema_evolution: fail\n")
    land(root, "a.csv", "id\n1\n")
    run(root)
    land(root, "b.csv", "id,extra,more\n2,e,m\n")
    result = run(root)
    (failed,) = result.failed
    assert "new columns `extra` (VARCHAR), `more` (VARCHAR) not in the bronze table" in (
        failed.reason
    )
    assert version(root) == 0
    assert rows(root, "id") == [("1",)]
    # the file was not recorded: fixing the policy ingests it on the next run
    text = (root / "afluente.yml").read_text().replace("schema_evolution: fail", "")
    (root / "afluente.yml").write_text(text)
    run(root)
    assert rows(root, "id", "extra") == [("1", None), ("2", "e")]


def test_values_that_do_not_cast_to_a_hint_are_rescued(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p", "columns: {amount: 'DECIMAL(12,2)', day: DATE}\n"
    )
    land(root, "a.csv", "id,amount,day\n1,10.50,2024-01-02\n2,ten,2024-13-01\n3,,\n")
    run(root)
    table = bronze(root)
    assert str(table.schema.field("amount").type) == "decimal128(12, 2)"
    assert str(table.schema.field("day").type) == "date32[day]"
    found = {r[0]: r[1:] for r in rows(root, "id", "amount", "_rescued_data")}
    assert str(found["1"][0]) == "10.50" and found["1"][1] is None
    assert found["2"][0] is None
    assert json.loads(found["2"][1]) == {"amount": "ten", "day": "2024-13-01"}
    assert found["3"] == (None, None)  # empty is null, not a failed cast


def test_values_that_do_not_fit_a_hint_exactly_are_rescued_not_rounded(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "columns: {n: INTEGER, d: 'DECIMAL(12,2)'}\n")
    land(root, "a.csv", "id,n,d\n1,2004.5,12.3456\n2,2004.0,12.30\n3,7,1e1\n")
    run(root)
    found = {r[0]: r[1:] for r in rows(root, "id", "n", "d", "_rescued_data")}
    assert found["1"][:2] == (None, None)
    assert json.loads(found["1"][2]) == {"n": "2004.5", "d": "12.3456"}
    assert found["2"] == (2004, Decimal("12.30"), None)  # same number: it fits
    assert found["3"] == (7, Decimal("10.00"), None)
    first = version(root)
    land(root, "b.csv", "id,n,d\n4,0.5,0.001\n")  # cast to the bronze types now
    run(root)
    assert version(root) == (first or 0) + 1
    found = {r[0]: r[1:] for r in rows(root, "id", "n", "d", "_rescued_data")}
    assert found["4"][:2] == (None, None)
    assert json.loads(found["4"][2]) == {"n": "0.5", "d": "0.001"}


def test_later_files_are_cast_to_the_bronze_types(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "columns: {n: INTEGER}\n")
    land(root, "a.csv", "n\n1\n")
    run(root)
    land(root, "b.csv", "n\n2\nlots\n")
    run(root)
    assert rows(root, "n", "_rescued_data") == [
        (1, None), (2, None), (None, '{"n":"lots"}')
    ]


def test_an_invalid_type_hint_is_a_clear_error(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "columns: {n: INTEGR}\n")
    land(root, "a.csv", "n\n1\n")
    result = run(root)
    (failed,) = result.failed
    assert failed.reason.startswith(f"{root / 'afluente.yml'}:3: source `events`: ")
    assert "INTEGR" in failed.reason
    assert failed.error is not None and failed.error.hint is not None
    assert "`columns` type hints" in failed.error.hint
    assert version(root) is None


def test_row_hash_depends_on_values_only(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    land(root, "a.csv", "id,v\n1,x\n")
    land(root, "b.csv", "id,v\n1,x\n2,x\n")
    run(root)
    hashes = rows(root, "id", "_source", "_row_hash")
    by_file = {(r[0], r[1]): r[2] for r in hashes}
    assert by_file[("1", "landing/a.csv")] == by_file[("1", "landing/b.csv")]
    assert by_file[("1", "landing/a.csv")] != by_file[("2", "landing/b.csv")]


def test_progress_is_summed_up_so_old_commits_are_not_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import afluente.connectors.files.connector as files_connector

    monkeypatch.setattr(files_connector, "SUMMARY_EVERY", 2)
    root = make_project(tmp_path / "p")
    for n in range(4):
        land(root, f"f{n}.csv", f"id\n{n}\n")
        assert run(root).models[0].status == "success"
    warehouse = Warehouse(load_project(root).warehouse_uri)
    history = warehouse.progress_history(REF)
    # the third commit summed up the first three files: the history read stops there
    assert [sorted(p["files"]) for p in history] == [
        ["landing/f3.csv"], ["landing/f0.csv", "landing/f1.csv", "landing/f2.csv"]
    ]
    assert [p.get("complete") for p in history] == [None, True]
    assert len(warehouse.history(REF)) == 4
    assert run(root).models[0].status == "up_to_date"
    assert rows(root, "id") == [("0",), ("1",), ("2",), ("3",)]
