"""CSV and TSV end to end: encodings, dialect options, decimal comma, malformed lines."""

from __future__ import annotations

import json
from decimal import Decimal

from .conftest import FilesProject


def test_utf8_bom_latin1_and_cp1252_land_as_the_same_text(files_project: FilesProject) -> None:
    files_project.source("""\
        path: landing/*.csv
    """)
    files_project.write("a.csv", b"\xef\xbb\xbfcity,note\nS\xc3\xa3o Paulo,caf\xc3\xa9\n")
    files_project.run()
    assert files_project.bronze().column_names[0] == "city"  # no BOM in the name
    assert files_project.rows("city", "note") == [("São Paulo", "café")]

    for encoding, text in [("latin-1", "city,note\nSão Paulo,café\n"),
                           ("cp1252", "city,note\nSão Paulo,€ 5 \u2013 \u201cok\u201d\n")]:
        files_project.source(f"""\
            path: landing/{encoding}.csv
            options: {{encoding: {encoding}}}
        """)
        files_project.write(f"{encoding}.csv", text, encoding=encoding)
        result = files_project.run(full_refresh=True)
        assert result.status == "success", result.failed
        expected = text.splitlines()[1].split(",")
        assert files_project.rows("city", "note") == [tuple(expected)]


def test_cp1252_keeps_line_endings_and_undefined_bytes(files_project: FilesProject) -> None:
    files_project.source("""\
        path: landing/w.csv
        options: {encoding: cp1252}
    """)
    files_project.write("w.csv", b"id,v\r\n1,\x80\x81\r\n2,\x93x\x94\r\n")
    files_project.run()
    assert files_project.rows("id", "v") == [("1", "€\x81"), ("2", "“x”")]


def test_tsv_quote_escape_and_no_header(files_project: FilesProject) -> None:
    files_project.source("""\
        path: landing/t.tsv
        format: tsv
        options: {header: false, quote: "'", escape: "\\\\"}
    """)
    files_project.write("t.tsv", "1\t'a\\'b\tc'\n2\tplain\n")
    files_project.run()
    assert files_project.rows("column0", "column1") == [("1", "a'b\tc"), ("2", "plain")]


def test_delimiter_and_headers_unioned_across_files(files_project: FilesProject) -> None:
    files_project.source("""\
        path: landing/*.csv
        options: {delimiter: ";"}
    """)
    files_project.write("1.csv", "id;name\n1;a\n")
    files_project.write("2.csv", "id;extra\n2;x\n")
    files_project.write("3.csv", "")  # empty: no columns, no rows, still recorded
    files_project.run()
    assert files_project.rows("id", "name", "extra", "_source") == [
        ("1", "a", None, "landing/1.csv"),
        ("2", None, "x", "landing/2.csv"),
    ]
    assert files_project.run().models[0].status == "up_to_date"


def test_decimal_comma_with_a_numeric_hint(files_project: FilesProject) -> None:
    files_project.source("""\
        path: landing/m.csv
        options: {delimiter: ";", decimal_separator: ","}
        columns: {amount: "DECIMAL(12,2)"}
    """)
    files_project.write("m.csv", "id;amount\n1;1.234,56\n2;7,5\n3;n/a\n")
    files_project.run()
    rows = files_project.rows("id", "amount", "_rescued_data")
    assert rows == [
        ("1", Decimal("1234.56"), None),
        ("2", Decimal("7.50"), None),
        ("3", None, '{"amount":"n/a"}'),
    ]


def test_malformed_lines_are_rescued_with_file_line_and_error(
    files_project: FilesProject,
) -> None:
    files_project.source("""\
        path: landing/*.csv
    """)
    files_project.write("good.csv", "id,name\n9,z\n")
    files_project.write("bad.csv", "id,name\n1,a\n2,b,extra\n3,c\n")
    result = files_project.run()
    assert result.status == "success"
    rows = files_project.rows("id", "name", "_source", "_rescued_data")
    assert [r[:3] for r in rows] == [
        (None, None, "landing/bad.csv"),
        ("1", "a", "landing/bad.csv"),
        ("3", "c", "landing/bad.csv"),
        ("9", "z", "landing/good.csv"),
    ]
    rescued = json.loads(rows[0][3])
    assert rescued["_source"] == "landing/bad.csv"
    assert rescued["_line"] == 3
    assert rescued["_raw"] == "2,b,extra"
    assert "Expected Number of Columns: 2 Found: 3" in rescued["_error"]
    assert [r[3] for r in rows[1:]] == [None, None, None]


def test_unterminated_quote_is_rescued_not_dropped(files_project: FilesProject) -> None:
    files_project.source("""\
        path: landing/q.csv
    """)
    files_project.write("q.csv", 'id,name\n1,a\n2,"open\n3,c\n')
    files_project.run()
    rows = files_project.rows("id", "_rescued_data")
    assert rows[1] == ("1", None)
    rescued = json.loads(rows[0][1])
    assert (rescued["_line"], rescued["_raw"]) == (3, '2,"open\n3,c')
    assert "unterminated quote" in rescued["_error"]


def test_invalid_bytes_rescued_in_a_line_and_quarantine_the_file_in_the_header(
    files_project: FilesProject,
) -> None:
    files_project.source("""\
        path: landing/*.csv
    """)
    files_project.write("b.csv", b"id,name\n1,a\xff\n2\n3,c\n")
    assert files_project.run().status == "success"
    rows = files_project.rows("id", "_rescued_data")
    assert rows[2] == ("3", None)
    rescued = sorted((json.loads(r[1]) for r in rows[:2]), key=lambda r: r["_line"])
    # DuckDB shows the bad byte as `?`
    assert [(r["_line"], r["_raw"]) for r in rescued] == [(2, "1,a?"), (3, "2")]
    assert "not utf-8 encoded" in rescued[0]["_error"]
    assert "Expected Number of Columns: 2 Found: 1" in rescued[1]["_error"]

    before = files_project.bronze()
    files_project.write("h.csv", b"id,n\xe4me\n1,a\n")
    files_project.write("i.csv", "id,name\n4,d\n")
    result = files_project.run()
    assert result.status == "success"  # the other new file lands
    after = files_project.bronze().to_pylist()
    assert all(row in after for row in before.to_pylist())  # earlier rows untouched
    rows = files_project.rows("id", "_source", "_rescued_data")
    assert ("4", "landing/i.csv", None) in rows
    (quarantined,) = [r for r in rows if r[1] == "landing/h.csv"]
    assert quarantined[0] is None
    assert json.loads(quarantined[2]) == {
        "_source": "landing/h.csv",
        "_error": "cannot read the first line: it is not valid utf-8 (check `options.encoding`)",
    }
