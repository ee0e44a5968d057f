"""Line endings and blank lines of a delimited text file, found before DuckDB reads it.

Real exports mix line endings (a CRLF line in an LF file, a lone CR): DuckDB's CSV reader
refuses such a file as a whole, so it gets a copy whose line endings outside quotes are all
LF, one for one, keeping line numbers (a line break inside a quoted value is data and is
kept). DuckDB skips blank lines silently; they are counted here. A first pass counts with C
string methods only; the slower pass that follows quotes runs for the files that need it:
mixed line endings, or blank-looking lines in a file with quotes (a quoted value may span
them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

CHUNK = 1 << 20
_BLANK = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?=[\r\n])")  # a line break right after another


@dataclass(frozen=True)
class Dialect:
    """What the quote-aware pass must know of the file's CSV dialect."""

    delimiter: str
    quote: str
    escape: str
    codec: str  # Python's name of the text encoding


@dataclass(frozen=True)
class LineSurvey:
    """A file's line-ending kinds (`"\\n"`, `"\\r\\n"`, `"\\r"`), its blank lines, and the LF
    copy DuckDB must read instead when the line endings are mixed."""

    endings: frozenset[str]
    blank_lines: int
    copy: Path | None = None


def survey(path: str, dialect: Dialect, copy_path: Callable[[], Path]) -> LineSurvey:
    """The file's line endings and blank lines (quote-aware where it matters); a file with
    mixed line endings (a lone CR, or more than one kind) is copied to `copy_path()`."""
    endings: set[str] = set()
    blank, quoted, previous = 0, False, b"\n"  # a break at the very start is a blank line
    quote = dialect.quote.encode(_BYTE_CODECS.get(dialect.codec, "utf-8"))
    for chunk in _byte_chunks(path, dialect):
        kinds = _ending_kinds(chunk)
        endings |= kinds
        blank += _blank_lines(previous + chunk, lf_only=kinds <= {"\n"})
        quoted = quoted or quote in chunk
        previous = chunk[-1:] if chunk[-1:] in (b"\r", b"\n") else b""
    if "\r" in endings or len(endings) > 1:
        copy = copy_path()
        return LineSurvey(frozenset(endings), normalize(path, copy, dialect), copy)
    if blank and quoted:  # a quoted value may span what looked like blank lines
        blank = normalize(path, None, dialect)
    return LineSurvey(frozenset(endings), blank)


def normalize(source: str, target: Path | None, dialect: Dialect) -> int:
    """Copy `source` to `target` (when given) with every line break outside quotes as LF;
    returns the number of blank lines (outside quotes)."""
    scanner = _QuoteScanner(dialect)
    with _open(source, dialect) as text:
        if target is None:
            for chunk in _chunks(text, dialect):
                scanner.feed(chunk)
            return scanner.blank_lines
        codec = "utf-8" if dialect.codec == "utf-8-sig" else dialect.codec  # no BOM added
        with open(target, "w", encoding=codec, errors=_ERRORS, newline="") as out:
            for chunk in _chunks(text, dialect):
                out.write(scanner.feed(chunk))
    return scanner.blank_lines


_ERRORS = "surrogateescape"  # bytes invalid in the encoding are copied as they are


def _open(path: str, dialect: Dialect) -> TextIO:
    return open(path, encoding=dialect.codec, errors=_ERRORS, newline="")


def _chunks(text: TextIO, dialect: Dialect) -> Iterator[str]:
    """Chunks of the text that never end inside a CRLF pair or an escape sequence."""
    enders = "\r" if dialect.escape == dialect.quote else "\r" + dialect.escape
    while chunk := text.read(CHUNK):
        while chunk[-1] in enders and (more := text.read(1)):
            chunk += more
        yield chunk


_BYTE_CODECS = {"utf-8-sig": "utf-8", "latin-1": "latin-1"}  # CR and LF are those bytes


def _byte_chunks(path: str, dialect: Dialect) -> Iterator[bytes]:
    """The file in chunks of bytes in which CR and LF are line breaks, never ending inside
    a CRLF pair (other encodings are decoded and re-encoded as UTF-8)."""
    if dialect.codec not in _BYTE_CODECS:
        with _open(path, dialect) as text:
            for decoded in _chunks(text, dialect):
                yield decoded.encode("utf-8", "surrogatepass")
        return
    with open(path, "rb") as data:
        while chunk := data.read(CHUNK):
            while chunk.endswith(b"\r") and (more := data.read(1)):
                chunk += more
            yield chunk


def _blank_lines(data: bytes, lf_only: bool) -> int:
    """Line breaks right after another one, ignoring quotes; the regex only runs on data
    that has such a pair (most files have none, and the regex is slow)."""
    if lf_only:
        return data.count(b"\n\n") and len(_BLANK.findall(data))
    if b"\n\n" in data or b"\n\r" in data or b"\r\r" in data:
        return len(_BLANK.findall(data))
    return 0


def _ending_kinds(data: bytes) -> set[str]:
    returns = data.count(b"\r")
    if not returns:  # the usual case: LF only, one scan
        return {"\n"} if b"\n" in data else set()
    pairs = data.count(b"\r\n")
    counts = {"\r\n": pairs, "\r": returns - pairs, "\n": data.count(b"\n") - pairs}
    return {kind for kind, count in counts.items() if count}


class _QuoteScanner:
    """Follows quotes across chunks like DuckDB does: a quote opens a value only at the start
    of a field; inside, the escape character takes the next one as data."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        quote, escape = re.escape(dialect.quote), re.escape(dialect.escape)
        self._outside = re.compile(f"{quote}|\r\n|\r|\n")
        inside = quote if dialect.escape == dialect.quote else f"{escape}.|{quote}"
        self._inside = re.compile(inside, re.DOTALL)
        # a quote opens a value after a line break or a delimiter; with doubled quotes, right
        # after the closing one too (`"a""b"` is one value)
        doubled = dialect.quote if dialect.escape == dialect.quote else ""
        self._opening = ("\n", dialect.delimiter, doubled)
        self.inside = False
        self.last = "\n"  # the last character written: a new line begins the file
        self.blank_lines = 0

    def feed(self, chunk: str) -> str:
        """`chunk` with its line breaks outside quotes as LF."""
        out: list[str] = []
        position = 0
        while match := (self._inside if self.inside else self._outside).search(chunk, position):
            out.append(chunk[position : match.start()])
            if match.start() > position:
                self.last = chunk[match.start() - 1]
            out.append(self._token(match.group()))
            position = match.end()
        out.append(chunk[position:])
        if position < len(chunk):
            self.last = chunk[-1]
        return "".join(out)

    def _token(self, token: str) -> str:
        if self.inside:
            if token == self.dialect.quote:
                self.inside = False
            self.last = token[-1]
            return token
        if token == self.dialect.quote:
            self.inside = self.last in self._opening
            self.last = token
            return token
        if self.last == "\n":
            self.blank_lines += 1
        self.last = "\n"
        return "\n"
