"""A landing zone as real exports fill it: mixed line endings, blank lines, empty files and
a file that cannot be read. Every good line lands, malformed lines are rescued with file and
line, an unreadable file is quarantined by name, and each file is still ingested once."""

from __future__ import annotations

import json

from afluente.config import load_project
from afluente.model import TableRef
from afluente.state.observability import ObservabilityStore

from .conftest import FilesProject

REF = TableRef("bronze", "s")


def test_an_empty_file_alone_is_recorded_and_lands_nothing(files_project: FilesProject) -> None:
    files_project.source("""\
        path: landing/*.csv
    """)
    files_project.write("empty.csv", b"")

    result = files_project.run()

    assert result.status == "success"
    assert files_project.bronze().num_rows == 0
    (progress,) = files_project.warehouse.progress_history(REF)
    assert list(progress["files"]) == ["landing/empty.csv"]
    version = files_project.version()
    assert files_project.run().status == "success"
    assert files_project.version() == version  # seen: nothing new to write


LANDING = {
    "lf.csv": b"id,name\n1,a\n2,b\n",
    "crlf.csv": b"id,name\r\n3,c\r\n\r\n4,d\r\n",
    "mixed.csv": b'id,name\n5,e\r\n6,f\n7,g,extra\r\n8,"h\r\ni"\n',
    "cr.csv": b"id,name\n9,j\r10,k\n",
    "unreadable.csv": b"\x00\xff\xfe\x00binary\xff,\x81\n\x00\x00\n",
}


def test_mixed_line_endings_land_every_good_line_and_quarantine_the_unreadable_file(
    files_project: FilesProject,
) -> None:
    files_project.source("""\
        path: landing/*.csv
    """)
    files_project.write("first.csv", "id,name\n0,z\n")
    files_project.run()
    before = files_project.bronze().to_pylist()
    for name, data in LANDING.items():
        files_project.write(name, data)

    result = files_project.run()

    assert result.status == "success"
    rows = files_project.rows("id", "name", "_source", "_rescued_data")
    assert [r[:3] for r in rows if r[3] is None] == [
        ("0", "z", "landing/first.csv"), ("1", "a", "landing/lf.csv"),
        ("10", "k", "landing/cr.csv"), ("2", "b", "landing/lf.csv"),
        ("3", "c", "landing/crlf.csv"), ("4", "d", "landing/crlf.csv"),
        ("5", "e", "landing/mixed.csv"), ("6", "f", "landing/mixed.csv"),
        ("8", "h\r\ni", "landing/mixed.csv"),  # a line break inside quotes is data
        ("9", "j", "landing/cr.csv"),
    ]
    rescued = {r[2]: json.loads(r[3]) for r in rows if r[3] is not None}
    assert set(rescued) == {"landing/mixed.csv", "landing/unreadable.csv"}
    line = rescued["landing/mixed.csv"]
    assert (line["_line"], line["_raw"]) == (4, "7,g,extra")
    assert "Expected Number of Columns: 2 Found: 3" in line["_error"]
    reason = "cannot read the first line: it is not valid utf-8 (check `options.encoding`)"
    assert rescued["landing/unreadable.csv"] == {
        "_source": "landing/unreadable.csv", "_error": reason
    }
    after = files_project.bronze().to_pylist()
    assert all(row in after for row in before)  # the previous version's rows are intact

    progress = files_project.warehouse.progress_history(REF)[0]
    assert sorted(progress["files"]) == sorted(f"landing/{n}" for n in LANDING)
    assert progress["quarantined"] == {"landing/unreadable.csv": reason}
    assert progress["blank_lines"] == {"landing/crlf.csv": 1}

    version = files_project.version()
    assert files_project.run().status == "success"
    assert files_project.version() == version  # exactly once: nothing new to land


def test_blank_lines_are_counted_in_the_ingestion_record(files_project: FilesProject) -> None:
    files_project.source("""\
        path: landing/*.csv
    """)
    files_project.write("a.csv", '\nid,name\n1,a\n\n\n2,"x\n\ny"\n\n')  # quoted: not blank
    files_project.write("b.csv", "id,name\n3,c\r\n\r\n4,d,extra\r\n")

    assert files_project.run().status == "success"

    rows = files_project.rows("id", "name", "_rescued_data")
    assert [r[:2] for r in rows] == [(None, None), ("1", "a"), ("2", "x\n\ny"), ("3", "c")]
    rescued = json.loads(rows[0][2])
    assert (rescued["_line"], rescued["_raw"]) == (4, "4,d,extra")  # no blank line in it
    (progress,) = files_project.warehouse.progress_history(REF)
    assert progress["blank_lines"] == {"landing/a.csv": 4, "landing/b.csv": 1}


def test_a_quarantined_copy_of_a_rescued_line_keeps_its_file_and_line(
    files_project: FilesProject,
) -> None:
    files_project.source("""\
        path: landing/*.csv
    """)
    models = files_project.root / "models" / "silver"
    models.mkdir(parents=True)
    (models / "t.sql").write_text(
        "/* @config\nkind: full\nexpectations:\n"
        "  - {name: has_id, not_null: id, action: quarantine}\n*/\n"
        "SELECT CAST(id AS INTEGER) AS id, name, _source, _rescued_data FROM bronze.s\n"
    )
    files_project.write("a.csv", "id,name\n1,a\n2,b,extra\n3,c\n")

    assert files_project.run().status == "success"

    quarantine = files_project.warehouse.dataset(TableRef("silver", "t__quarantine"))
    (row,) = [json.loads(r) for r in quarantine.to_table().column("_row").to_pylist()]
    assert row["_source"] == "landing/a.csv"
    assert (row["_rescued_data"]["_source"], row["_rescued_data"]["_line"]) == (
        "landing/a.csv", 3
    )
    assert row["_rescued_data"]["_raw"] == "2,b,extra"


def test_a_batch_of_only_an_unreadable_file_is_no_schema_incident(
    files_project: FilesProject,
) -> None:
    files_project.source("""\
        path: landing/*.csv
    """)
    files_project.write("a.csv", "id,name\n1,a\n2,b\n")
    files_project.run()
    files_project.write("b.csv", b"id,n\xe4me\n1,a\n")

    assert files_project.run().status == "success"

    with ObservabilityStore.open(load_project(files_project.root).state_url) as store:
        assert [(i.model, i.pillar) for i in store.incidents()] == []
        latest = store.metrics("bronze.s")[-1]
    assert latest.rows_added == 1  # the quarantine row, not a column that stopped arriving


def test_a_fixed_quarantined_file_replaces_its_quarantine_row(
    files_project: FilesProject,
) -> None:
    files_project.source("""\
        path: landing/*.csv
    """)
    files_project.write("h.csv", b"id,n\xe4me\n1,a\n")
    files_project.run()
    assert files_project.rows("_source") == [("landing/h.csv",)]  # no column known yet

    files_project.write("h.csv", "id,name\n1,a\n2,b\n")  # fixed: a new size

    assert files_project.run().status == "success"
    assert files_project.rows("id", "name", "_rescued_data") == [
        ("1", "a", None), ("2", "b", None)
    ]


def test_the_quarantined_copy_keeps_file_and_line_whatever_the_model_selects(
    files_project: FilesProject,
) -> None:
    files_project.source("""\
        path: landing/*.csv
    """)
    models = files_project.root / "models" / "silver"
    models.mkdir(parents=True)
    (models / "t.sql").write_text(  # selects no lineage column, through a CTE
        "/* @config\nkind: full\nexpectations:\n"
        "  - {name: has_id, not_null: id, action: quarantine}\n"
        "  - {name: small, expression: id < 5, action: quarantine}\n*/\n"
        "WITH typed AS (SELECT CAST(id AS INTEGER) AS id, name FROM bronze.s AS b)\n"
        "SELECT id, upper(name) AS name FROM typed\n"
    )
    files_project.write("a.csv", "id,name\n1,a\n2,b,extra\n7,c\n")

    assert files_project.run().status == "success"

    quarantine = files_project.warehouse.dataset(TableRef("silver", "t__quarantine"))
    rows = sorted((json.loads(r) for r in quarantine.to_table().column("_row").to_pylist()),
                  key=lambda r: r["id"] or 0)
    assert [(r["id"], r["name"], r["_source"]) for r in rows] == [
        (None, None, "landing/a.csv"), (7, "C", "landing/a.csv")]
    assert (rows[0]["_rescued_data"]["_line"], rows[0]["_rescued_data"]["_raw"]) == (
        3, "2,b,extra")
    assert rows[1]["_rescued_data"] is None
    table = files_project.warehouse.dataset(TableRef("silver", "t")).to_table()
    assert table.column_names == ["id", "name"]  # the lineage rode along, not into the table
    assert table.to_pylist() == [{"id": 1, "name": "A"}]
