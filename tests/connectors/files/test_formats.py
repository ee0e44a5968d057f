"""JSON (nested, flattened), parquet, avro, orc and xlsx end to end; option validation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import fastavro
import pyarrow as pa
import pyarrow.orc as orc
import pytest

from afluente.config import load_project
from afluente.connectors import source_config
from afluente.errors import ConfigError

from .conftest import FilesProject
from .xlsx import write_xlsx

NESTED = [
    {"id": 1, "customer": {"name": "Ana", "address": {"city": "Recife"}}, "tags": ["a", "b"]},
    {"id": 2, "customer": None, "tags": []},
]


def test_json_keeps_structs_and_lists(files_project: FilesProject) -> None:
    files_project.source("""\
        path: landing/n.json
        format: json
    """)
    files_project.write("n.json", json.dumps(NESTED))
    files_project.run()
    bronze = files_project.bronze()
    assert pa.types.is_struct(bronze.schema.field("customer").type)
    assert files_project.rows("id", "customer", "tags") == [
        (1, {"name": "Ana", "address": {"city": "Recife"}}, ["a", "b"]),
        (2, None, []),
    ]


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_mixed_type_json_fields_keep_their_text_exactly(
    files_project: FilesProject, fmt: str
) -> None:
    files_project.source(f"""\
        path: landing/m.json
        format: {fmt}
    """)
    records = [
        {"id": 1, "kind": "a"}, {"id": 2, "kind": 5}, {"id": 3, "kind": 5.0},
        {"id": 4, "kind": 'say "hi"'}, {"id": 5, "kind": {"x": [1, "b"]}}, {"id": 6, "kind": None},
    ]
    lines = [json.dumps(r, separators=(",", ":")) for r in records]
    text = "[" + ",".join(lines) + "]" if fmt == "json" else "\n".join(lines)
    files_project.write("m.json", text)
    assert files_project.run().status == "success"
    assert files_project.rows("id", "kind") == [
        (1, "a"), (2, "5"), (3, "5.0"), (4, 'say "hi"'), (5, '{"x":[1,"b"]}'), (6, None),
    ]


def test_ndjson_flattened(files_project: FilesProject) -> None:
    files_project.source("""\
        path: landing/n.ndjson
        format: ndjson
        options: {flatten: true}
    """)
    files_project.write("n.ndjson", "".join(json.dumps(r) + "\n" for r in NESTED))
    files_project.run()
    assert files_project.bronze().column_names[:4] == [
        "id", "customer__name", "customer__address__city", "tags",
    ]
    assert files_project.rows("id", "customer__name", "customer__address__city", "tags") == [
        (1, "Ana", "Recife", ["a", "b"]),
        (2, None, None, []),
    ]


def test_avro_with_logical_types_and_records(files_project: FilesProject) -> None:
    schema = {
        "type": "record", "name": "Order",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal",
                                        "precision": 8, "scale": 2}},
            {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "note", "type": ["null", "string"]},
            {"name": "buyer", "type": {"type": "record", "name": "Buyer",
                                       "fields": [{"name": "uf", "type": "string"}]}},
        ],
    }
    at = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    records = [
        {"id": 1, "amount": Decimal("10.50"), "at": at, "note": None, "buyer": {"uf": "SP"}},
        {"id": 2, "amount": Decimal("3.00"), "at": at, "note": "gift", "buyer": {"uf": "RJ"}},
    ]
    files_project.landing.mkdir(parents=True)
    with open(files_project.landing / "o.avro", "wb") as out:
        fastavro.writer(out, fastavro.parse_schema(schema), records)
    files_project.source("""\
        path: landing/*.avro
        format: avro
        options: {flatten: true}
    """)
    files_project.run()
    assert files_project.rows("id", "amount", "at", "note", "buyer__uf") == [
        (1, Decimal("10.50"), at, None, "SP"),
        (2, Decimal("3.00"), at, "gift", "RJ"),
    ]


def test_orc_and_parquet_files_of_different_columns(files_project: FilesProject) -> None:
    files_project.landing.mkdir(parents=True)
    orc.write_table(pa.table({"id": [1, 2], "v": ["a", "b"]}), files_project.landing / "1.orc")
    orc.write_table(pa.table({"id": [3], "w": [0.5]}), files_project.landing / "2.orc")
    files_project.source("""\
        path: landing/*.orc
        format: orc
    """)
    files_project.run()
    assert files_project.rows("id", "v", "w", "_source") == [
        (1, "a", None, "landing/1.orc"),
        (2, "b", None, "landing/1.orc"),
        (3, None, 0.5, "landing/2.orc"),
    ]


def test_xlsx_cells_land_as_text_unless_hinted(files_project: FilesProject) -> None:
    write_xlsx(files_project.landing / "book.xlsx", {
        "Notes": [["ignored"]],
        "Sales": [["id", "amount", "paid", "note"], [1, 10.25, True, "first"],
                  [2, 3, False, None]],
    })
    files_project.source("""\
        path: landing/book.xlsx
        format: xlsx
        options: {sheet: Sales}
        columns: {amount: "DECIMAL(10,2)"}
    """)
    files_project.run()
    assert files_project.rows("id", "amount", "paid", "note") == [
        ("1", Decimal("10.25"), "true", "first"),
        ("2", Decimal("3.00"), "false", None),
    ]


def test_xlsx_missing_sheet_quarantines_the_file_naming_the_sheets(
    files_project: FilesProject,
) -> None:
    write_xlsx(files_project.landing / "book.xlsx", {"Sales": [["id"], [1]]})
    write_xlsx(files_project.landing / "old.xlsx", {"Vendas": [["id"], [2]]})
    files_project.source("""\
        path: landing/*.xlsx
        format: xlsx
        options: {sheet: Sales}
    """)
    assert files_project.run().status == "success"
    rows = files_project.rows("id", "_source", "_rescued_data")
    assert rows[1] == ("1", "landing/book.xlsx", None)
    assert rows[0][:2] == (None, "landing/old.xlsx")
    assert json.loads(rows[0][2]) == {
        "_source": "landing/old.xlsx", "_error": "no sheet `Sales` (sheets: Vendas)"
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("format: parquet\noptions: {delimiter: ';'}",
         "`options.delimiter` applies to csv and tsv files, not parquet"),
        ("format: csv\noptions: {sheet: x}", "`options.sheet` applies to xlsx files, not csv"),
        ("options: {encoding: ebcdic}", "invalid value 'ebcdic' for `sources.s.options.encoding`"),
    ],
)
def test_options_that_do_not_fit_are_config_errors(
    files_project: FilesProject, body: str, message: str
) -> None:
    files_project.source("path: landing/x\n" + body + "\n")
    project = load_project(files_project.root)
    with pytest.raises(ConfigError) as caught:
        source_config(project, "s")
    assert message in caught.value.message
    assert isinstance(caught.value.location.file, Path | str)
