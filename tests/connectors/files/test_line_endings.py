"""The survey of line endings and blank lines, and the LF copy, whatever the chunk size: a
CRLF pair, a quoted value or an escape split across two chunks reads the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from afluente.connectors.files import line_endings
from afluente.connectors.files.line_endings import Dialect, survey

DOUBLED = Dialect(",", '"', '"', "utf-8-sig")
BACKSLASH = Dialect(",", '"', "\\", "utf-8-sig")
CASES = [
    # (dialect, file, LF copy (None: none needed), blank lines)
    (DOUBLED, b"id,n\n1,a\n\n2,b\n", None, 1),
    (DOUBLED, b"id,n\r\n1,a\r\n\r\n2,b\r\n", None, 1),
    (DOUBLED, b'\nid,n\n1,"x\n\ny"\n\n', None, 2),  # the quoted break is data
    (DOUBLED, b'id,n\n1,a\r\n2,"x\r\ny"\r3,"p""q\r"\n\r\n',
     b'id,n\n1,a\n2,"x\r\ny"\n3,"p""q\r"\n\n', 1),
    (DOUBLED, b"id,n\r1,a\r\r", b"id,n\n1,a\n\n", 1),
    (DOUBLED, b'id,n\n1,ab"c\r\n2,d\n', b'id,n\n1,ab"c\n2,d\n', 0),  # mid-field quote
    (BACKSLASH, b'id,n\n1,"a\\"\r\nb"\r\n2,c\n', b'id,n\n1,"a\\"\r\nb"\n2,c\n', 0),
    (DOUBLED, b"id,n\n1,\xff\r\n", b"id,n\n1,\xff\n", 0),  # bad bytes copied as they are
]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 1 << 20])
@pytest.mark.parametrize(("dialect", "data", "copy", "blank"), CASES)
def test_survey_and_lf_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int,
    dialect: Dialect, data: bytes, copy: bytes | None, blank: int,
) -> None:
    monkeypatch.setattr(line_endings, "CHUNK", chunk)
    source = tmp_path / "f.csv"
    source.write_bytes(data)

    found = survey(str(source), dialect, lambda: tmp_path / "lf.csv")

    assert found.blank_lines == blank
    if copy is None:
        assert found.copy is None
    else:
        assert found.copy is not None and found.copy.read_bytes() == copy
