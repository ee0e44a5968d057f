"""DuckDB's file scanner on its own: plain descriptions of files in, rows out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from afluente.connectors.protocol import CsvDialect, CsvFile, ScanFile
from afluente.engines.duckdb_files import DuckDBFileScan, DuckDBFileScanner, name_by_prefix
from afluente.errors import ConnectorError
from afluente.streams import SourceQuery

COMMA = CsvDialect(delimiter=",", quote='"', escape='"', encoding="utf-8", header=True)


def _translate(exc: Exception) -> ConnectorError:
    return ConnectorError(f"translated: {exc}")


@pytest.fixture
def scan() -> Iterator[DuckDBFileScan]:
    opened = DuckDBFileScanner().open(_translate, lambda: None)
    yield opened
    opened.close()


def _rows(scan: DuckDBFileScan, query: SourceQuery) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = scan.stream(query, 1000).read_all().to_pylist()
    return rows


def _write(folder: Path, name: str, text: str) -> ScanFile:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return ScanFile(str(path), name)


def _csv(file: ScanFile, *header: str, skip: int = 0) -> CsvFile:
    return CsvFile(file.path, file.name, header, skip)


def test_csv_rows_then_rejected_lines_then_quarantined_files(
    scan: DuckDBFileScan, tmp_path: Path
) -> None:
    a = _csv(_write(tmp_path, "a.csv", "id,v\n1,x\n2,y,extra\n"), "id", "v")
    b = _csv(_write(tmp_path, "b.csv", "id\n3\n"), "id")

    query = scan.delimited([a, b], ["id", "v"], COMMA, {"bad.csv": "cannot read the first line"})
    rows = _rows(scan, query)

    good = [(r["id"], r["v"], r["_source"]) for r in rows if r["_rescued_data"] is None]
    assert sorted(good, key=str) == [("1", "x", "a.csv"), ("3", None, "b.csv")]
    rejected, quarantined = rows[-2:]
    assert rejected["id"] is None and rejected["_source"] == "a.csv"
    assert isinstance(rejected["_rescued_data"], str)
    found = json.loads(rejected["_rescued_data"])
    assert (found["_source"], found["_line"], found["_raw"]) == ("a.csv", 3, "2,y,extra")
    assert quarantined["_source"] == "bad.csv"
    assert isinstance(quarantined["_rescued_data"], str)
    assert json.loads(quarantined["_rescued_data"]) == {
        "_source": "bad.csv",
        "_error": "cannot read the first line",
    }


def test_csv_skips_blank_lines_before_the_header(scan: DuckDBFileScan, tmp_path: Path) -> None:
    a = _csv(_write(tmp_path, "a.csv", "\n\nid\n1\n"), "id", skip=2)
    rows = _rows(scan, scan.delimited([a], ["id"], COMMA, {}))
    assert [(r["id"], r["_source"], r["_rescued_data"]) for r in rows] == [("1", "a.csv", None)]


def test_no_readable_csv_file_gives_only_the_quarantined_rows(scan: DuckDBFileScan) -> None:
    rows = _rows(scan, scan.delimited([], ["id"], COMMA, {"x.csv": "empty first line"}))
    assert [(r["id"], r["_source"]) for r in rows] == [(None, "x.csv")]


def test_staged_copies_are_named_by_their_file_names(scan: DuckDBFileScan, tmp_path: Path) -> None:
    staged = _write(tmp_path, "0-utf8-orders.csv", "id\n7\n")
    copy = CsvFile(staged.path, "landing/orders.csv", ("id",), 0)
    rows = _rows(scan, scan.delimited([copy], ["id"], COMMA, {}))
    assert [(r["id"], r["_source"]) for r in rows] == [("7", "landing/orders.csv")]


def test_json_mixed_types_land_as_each_values_text(scan: DuckDBFileScan, tmp_path: Path) -> None:
    file = _write(tmp_path, "a.ndjson", '{"k": "a"}\n{"k": 5}\n{"k": {"x": 1}}\n')
    rows = _rows(scan, scan.documents("ndjson", [file], {}))
    assert [r["k"] for r in rows] == ["a", "5", '{"x":1}']
    assert {r["_source"] for r in rows} == {"a.ndjson"}


def test_unreadable_json_names_the_problem(scan: DuckDBFileScan, tmp_path: Path) -> None:
    good = _write(tmp_path, "good.ndjson", '{"k": 1}\n')
    bad = _write(tmp_path, "bad.ndjson", '{"k": 1\n')
    assert scan.unreadable_json(good.path, newline_delimited=True) is None
    problem = scan.unreadable_json(bad.path, newline_delimited=True)
    assert problem is not None and "bad.ndjson" in str(problem)


def test_documents_with_quarantined_files(scan: DuckDBFileScan, tmp_path: Path) -> None:
    file = _write(tmp_path, "a.json", '[{"k": 1}]')
    rows = _rows(scan, scan.documents("json", [file], {"b.json": "not json"}))
    assert [(r["k"], r["_source"]) for r in rows] == [(1, "a.json"), (None, "b.json")]
    only = _rows(scan, scan.documents("json", [], {"b.json": "not json"}))
    assert [r["_source"] for r in only] == ["b.json"]


def test_closing_the_scan_closes_what_it_was_given() -> None:
    closed: list[bool] = []
    opened = DuckDBFileScanner().open(_translate, lambda: closed.append(True))
    opened.close()
    assert closed == [True]


def test_typed_csv_infers_types_and_keeps_hinted_columns_as_text(tmp_path: Path) -> None:
    file = _write(tmp_path, "seed.csv", "code,n,day\n007,1,2024-01-02\n010,2,2024-01-03\n")
    query = DuckDBFileScanner().typed_csv(file.path, "seeds/seed.csv", ",", ["n"], _translate)
    try:
        table = query.connection.sql(query.sql).to_arrow_table()
    finally:
        query.close()
    assert table.schema.field("code").type == pa.string()  # leading zeros: text
    assert table.schema.field("n").type == pa.string()  # hinted
    assert table.schema.field("day").type == pa.date32()
    assert table.column("_source").to_pylist() == ["seeds/seed.csv"] * 2


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ([("/l/a.csv", "a.csv"), ("/l/b.csv", "b.csv")], "substr(s.filename, 4)"),
        ([("a.csv", "a.csv")], "s.filename"),
        ([("/l/a.csv", "a.csv"), ("/m/b.csv", "b.csv")], None),  # two folders
        ([("/tmp/0-a.csv", "a.csv"), ("/l/b.csv", "b.csv")], None),  # a staged copy
        ([], None),
    ],
)
def test_file_names_are_cut_from_one_common_prefix(
    files: list[tuple[str, str]], expected: str | None
) -> None:
    assert name_by_prefix([ScanFile(path, name) for path, name in files]) == expected
