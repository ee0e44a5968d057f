"""A cache of what parsing a SQL model yields, keyed by the file's exact text.

Parsing 1,000 models with sqlglot takes seconds; the result depends only on the text, the
sqlglot version and this cache's format, so `validate` and `plan` reuse it. Only successful
parses are stored: a file with an error is parsed (and reported) every time. The YAML of a
`/* @config */` header is kept too (its data and the line of each key, ~0.4 ms a model to
parse again), when its data is plain JSON (no dates, no non-text keys), which reads back
the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

FORMAT = 2


@dataclass(frozen=True)
class ParsedSql:
    """The normalised query text and each `layer.table` reference with its position."""

    code: str
    references: tuple[tuple[str, str, int | None, int | None], ...]


@dataclass(frozen=True)
class CachedHeader:
    """A header's YAML data and the (header-relative) line of each key path."""

    data: Any
    lines: dict[tuple[Any, ...], int]


def _plain_json(value: Any) -> bool:
    """Whether `value` reads back equal (same types) from JSON."""
    try:
        return bool(json.loads(json.dumps(value)) == value) and _same_types(value)
    except (TypeError, ValueError):
        return False


def _same_types(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _same_types(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_same_types(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


class ParseCache:
    """A JSON file of text hash → ParsedSql; `path=None` disables caching."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._entries: dict[str, Any] = self._load()
        self._dirty = False

    def _load(self) -> dict[str, Any]:
        if self.path is None or not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # a damaged cache is only a slower start
        entries = data.get("entries") if data.get("key") == _version_key() else None
        return entries if isinstance(entries, dict) else {}

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get(self, text: str) -> ParsedSql | None:
        entry = self._entries.get(self.key(text))
        if entry is None or "code" not in entry:
            return None
        refs = tuple((r[0], r[1], r[2], r[3]) for r in entry["references"])
        return ParsedSql(code=entry["code"], references=refs)

    def put(self, text: str, parsed: ParsedSql) -> None:
        if self.path is None:
            return
        entry = self._entries.setdefault(self.key(text), {})
        entry["code"] = parsed.code
        entry["references"] = [list(r) for r in parsed.references]
        self._dirty = True

    def header(self, text: str) -> CachedHeader | None:
        """The header YAML's data and key lines stored for `text`, if any."""
        entry = self._entries.get(self.key(text))
        cached = entry.get("header") if entry is not None else None
        if cached is None:
            return None
        lines = {tuple(path): line for path, line in cached["lines"]}
        return CachedHeader(data=cached["data"], lines=lines)

    def put_header(self, text: str, header: CachedHeader) -> None:
        if self.path is None or not _plain_json(header.data):
            return
        lines = [[list(path), line] for path, line in header.lines.items()]
        if not _plain_json(lines):
            return
        entry = self._entries.setdefault(self.key(text), {})
        entry["header"] = {"data": header.data, "lines": lines}
        self._dirty = True

    def save(self, keep: set[str] | None = None) -> None:
        """Write the cache atomically, dropping entries not in `keep` (deleted models)."""
        if self.path is None or not self._dirty:
            return
        entries = self._entries if keep is None else {
            k: v for k, v in self._entries.items() if k in keep
        }
        payload = json.dumps({"key": _version_key(), "entries": entries})
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".parse-cache-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
            os.replace(tmp, self.path)
        except OSError:
            return  # a read-only project still validates, just without the cache


def _version_key() -> str:
    return f"{FORMAT}:{metadata.version('sqlglot')}"  # without importing sqlglot
