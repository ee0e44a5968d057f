"""Seeds: `seeds/*.csv` become typed bronze tables models can read, replaced when changed;
a bad seed is an error naming file:line and leaves the table as it was."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from afluente.config import load_project
from afluente.errors import ConfigError, ConnectorError, Location
from afluente.lineage import project_lineage
from afluente.model import TableRef, load_graph
from afluente.runtime import run_project
from afluente.runtime.results import RunResult
from afluente.storage import Warehouse

COUNTRIES = TableRef("bronze", "countries")
COUNTRIES_CSV = """\
code,name,population_m,founded,ddi,eu,zip
BR,Brasil,203.1,1822-09-07,55,false,01234
PT,Portugal,10.4,1143-10-05,351,true,1000
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path.resolve() / "p"
    write(folder, {"afluente.yml": "name: p\n", "seeds/countries.csv": COUNTRIES_CSV})
    return folder


def write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def run(root: Path, **kwargs: Any) -> RunResult:
    return run_project(load_project(root), **kwargs)


def table(root: Path, ref: TableRef = COUNTRIES) -> pa.Table:
    return Warehouse(load_project(root).warehouse_uri).dataset(ref).to_table()


def version(root: Path, ref: TableRef = COUNTRIES) -> int | None:
    return Warehouse(load_project(root).warehouse_uri).version(ref)


def test_a_seed_is_a_typed_bronze_table_that_models_read(root: Path) -> None:
    write(root, {"models/silver/eu_countries.sql": "SELECT code, ddi FROM bronze.countries "
                                                   "WHERE eu\n"})

    result = run(root)

    assert result.status == "success"
    bronze = table(root)
    types = {f.name: str(f.type) for f in bronze.schema}
    assert {k: types[k] for k in ("code", "population_m", "founded", "ddi", "eu", "zip")} == {
        "code": "string", "population_m": "double", "founded": "date32[day]",
        "ddi": "int64", "eu": "bool", "zip": "string",
    }
    rows = sorted(bronze.select(["code", "founded", "zip", "_source"]).to_pylist(),
                  key=lambda r: r["code"])
    assert rows == [
        {"code": "BR", "founded": dt.date(1822, 9, 7), "zip": "01234",
         "_source": "seeds/countries.csv"},
        {"code": "PT", "founded": dt.date(1143, 10, 5), "zip": "1000",
         "_source": "seeds/countries.csv"},
    ]
    assert table(root, TableRef("silver", "eu_countries")).to_pylist() == [
        {"code": "PT", "ddi": 351}]


def test_the_graph_holds_a_seed_as_a_source_located_at_its_file(root: Path) -> None:
    node = load_graph(load_project(root))[COUNTRIES]

    assert (node.kind, node.source_name) == ("ingest", "countries")
    assert node.location == Location(root / "seeds/countries.csv")


def test_an_unchanged_seed_is_not_read_again_and_a_changed_one_replaces_the_table(
    root: Path,
) -> None:
    assert run(root).status == "success"
    assert run(root).status == "success"
    assert version(root) == 0

    write(root, {"seeds/countries.csv": "code,population_m\nAR,46.2\n"})
    assert run(root).status == "success"

    assert version(root) == 1
    assert table(root).select(["code", "population_m"]).to_pylist() == [
        {"code": "AR", "population_m": 46.2}]


def test_declared_seed_takes_description_and_type_hints(root: Path) -> None:
    write(root, {"afluente.yml": """\
        name: p
        sources:
          countries:
            type: seed
            path: seeds/countries.csv
            description: Countries we sell to.
            columns: {ddi: VARCHAR, population_m: "DECIMAL(6,1)"}
        """})

    assert run(root).status == "success"

    assert load_graph(load_project(root))[COUNTRIES].config.description == (
        "Countries we sell to.")
    rows = sorted(table(root).select(["ddi", "population_m"]).to_pylist(),
                  key=lambda r: r["ddi"])
    assert rows == [{"ddi": "351", "population_m": Decimal("10.4")},
                    {"ddi": "55", "population_m": Decimal("203.1")}]


def test_a_ragged_line_fails_naming_file_and_line_and_keeps_the_table(root: Path) -> None:
    assert run(root).status == "success"
    before = table(root)
    write(root, {"seeds/countries.csv": COUNTRIES_CSV + "AR,Argentina,46.2\n"})

    result = run(root)

    assert result.status == "failed"
    (failed,) = result.failed
    assert isinstance(failed.error, ConnectorError)
    assert failed.error.message == "seed `countries`: line has 3 fields, the header has 7"
    assert failed.error.location == Location(root / "seeds/countries.csv", 4)
    assert (version(root), table(root)) == (0, before)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("", "the file is empty (no header line)", 1),
        ('a,b\n1,"open\n', "unexpected end of data", 2),
        ("a,a\n1,2\n", "column `a` appears twice in the header", 1),
        ("a,b\n1,2\n3,\xe9\n", None, 3),
    ],
)
def test_bad_seed_files_name_file_and_line(
    root: Path, text: str, message: str | None, line: int
) -> None:
    path = root / "seeds/countries.csv"
    path.write_bytes(text.encode("latin-1"))

    (failed,) = run(root).failed

    assert isinstance(failed.error, ConnectorError)
    assert failed.error.message == "seed `countries`: " + (message or "byte 0xe9 is not UTF-8")
    assert failed.error.location == Location(path, line)


def test_a_hint_for_a_missing_column(root: Path) -> None:
    write(root, {"afluente.yml": """\
        name: p
        sources:
          countries: {type: seed, path: seeds/countries.csv, columns: {dd1: VARCHAR}}
        """})

    (failed,) = run(root).failed

    assert isinstance(failed.error, ConnectorError)
    assert failed.error.message == (
        "seed `countries`: `columns` hints `dd1`, which is not a column of seeds/countries.csv")
    assert failed.error.location == Location(root / "afluente.yml", 3)


def test_a_seed_named_like_a_declared_source(root: Path) -> None:
    write(root, {"afluente.yml": "name: p\nsources:\n  countries: {type: files, path: x.csv}\n"})

    with pytest.raises(ConfigError) as caught:
        load_project(root)

    assert caught.value.message == (
        "seed `seeds/countries.csv` and the source `countries` of afluente.yml have the same name")
    assert caught.value.location == Location(root / "seeds/countries.csv")


def test_a_seed_file_name_that_is_not_a_table_name(root: Path) -> None:
    write(root, {"seeds/2024 holidays.csv": "day\n2024-01-01\n"})

    with pytest.raises(ConfigError) as caught:
        load_project(root)

    assert caught.value.message == (
        "seed `seeds/2024 holidays.csv`: `2024 holidays` cannot name a table")
    assert caught.value.location == Location(root / "seeds/2024 holidays.csv")


def test_lineage_traces_a_seed_back_to_its_file(root: Path) -> None:
    graph = load_graph(load_project(root), cache=False)

    found = project_lineage(graph, lambda ref: ["code", "name"] if ref == COUNTRIES else None)

    assert found.datasets["source:countries"].dataset.location == "seeds/countries.csv"
    assert [str(e.source) for e in found.datasets["bronze.countries"].edges] == [
        "source:countries.code", "source:countries.name"]
