"""Text encodings DuckDB cannot read itself, transcoded to UTF-8 before it reads them.

DuckDB reads utf-8, utf-16 and latin-1; others (cp1252, the Windows default for Western
languages) would need an extension download. Such files are rewritten as UTF-8 in a
temporary file, in chunks, keeping line endings so rejected-line numbers stay right.
"""

from __future__ import annotations

import codecs
from pathlib import Path

CHUNK_CHARS = 1 << 20
NATIVE = {"utf-8", "utf-16", "latin-1"}
_C1_HANDLER = "afluente-c1"


def _undefined_as_c1(error: UnicodeError) -> tuple[str, int]:
    """cp1252 leaves 5 bytes undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D); map each to the C1
    control of the same number, as browsers do, rather than fail or drop it."""
    assert isinstance(error, UnicodeDecodeError)
    return chr(error.object[error.start]), error.start + 1


codecs.register_error(_C1_HANDLER, _undefined_as_c1)


def needs_transcoding(encoding: str) -> bool:
    return encoding not in NATIVE


def transcode_to_utf8(source: Path, target: Path, encoding: str) -> None:
    """Rewrite `source` (in `encoding`) as UTF-8 at `target`, chunk by chunk."""
    with (
        open(source, encoding=encoding, errors=_C1_HANDLER, newline="") as text,
        open(target, "w", encoding="utf-8", newline="") as out,
    ):
        while chunk := text.read(CHUNK_CHARS):
            out.write(chunk)


def python_codec(encoding: str) -> str:
    """The codec Python uses to read a file DuckDB reads as `encoding` (BOM dropped)."""
    return "utf-8-sig" if encoding == "utf-8" else encoding
