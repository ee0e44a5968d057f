"""Find and erase a subject's values in text: the state store's JSON, generated reports,
OpenLineage event files, the Delta log. Matching ignores case (a CRM export may shout)."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

from afluente.config import Project
from afluente.config.loader import STATE_DIR

ERASED = "[erased]"
#: project files that are the user's own (code, config), never rewritten
OWN = ("models", "tests", "afluente.yml", ".git")
_STATE_KEPT = ("audit.log", "erasures")  # no personal data is ever written there
_TEXT_SUFFIXES = {".json", ".ndjson", ".html", ".htm", ".js", ".csv", ".txt", ".log",
                  ".md", ".xml", ".yml", ".yaml", ".jsonl"}


class Eraser:
    """Replaces every occurrence of the needles (case-insensitive) with `[erased]`."""

    def __init__(self, needles: Sequence[str]) -> None:
        ordered = sorted(set(needles), key=len, reverse=True)
        self.pattern = (re.compile("|".join(re.escape(n) for n in ordered), re.IGNORECASE)
                        if ordered else None)

    def __call__(self, text: str) -> str:
        return self.pattern.sub(ERASED, text) if self.pattern else text

    def found_in(self, text: str) -> bool:
        return bool(self.pattern and self.pattern.search(text))


def source_roots(project: Project, names: Collection[str] | None = None) -> list[Path]:
    """The local folders the project's file sources read (the source system's landing);
    only those of the sources `names` when given."""
    roots = []
    for name, spec in project.config.sources.items():
        if names is not None and name not in names:
            continue
        path = spec.extra.get("path")
        if spec.type == "files" and isinstance(path, str) and "://" not in path:
            head = re.split(r"[*?\[]", path, maxsplit=1)[0]
            roots.append(Path(project.resolve_path(head or ".")))
    return roots


def _under(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def generated_files(project: Project, skip: Sequence[Path]) -> Iterator[Path]:
    """Text files afluente wrote under the project (reports, lineage events, caches): not
    the user's own files, the landing zone, the warehouse or the state database."""
    state = project.root / STATE_DIR
    for folder, dirs, names in os.walk(project.root):
        base = Path(folder)
        dirs[:] = [d for d in dirs if not _skipped(base / d, project, skip)]
        for name in names:
            path = base / name
            if _skipped(path, project, skip) or (base == state and name.startswith("state.db")):
                continue
            if path.suffix.lower() in _TEXT_SUFFIXES:
                yield path


def _skipped(path: Path, project: Project, skip: Sequence[Path]) -> bool:
    relative = path.relative_to(project.root)
    if relative.parts and relative.parts[0] in OWN:
        return True
    if relative.parts[:1] == (STATE_DIR,) and len(relative.parts) > 1 and \
            relative.parts[1] in _STATE_KEPT:
        return True
    return _under(path, skip)


def scrub_files(paths: Sequence[Path], eraser: Eraser) -> list[str]:
    """Rewrite the files holding a needle; the ones changed."""
    changed = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if eraser.found_in(text):
            temporary = path.with_name(f".{path.name}.erasing")
            temporary.write_text(eraser(text), encoding="utf-8")
            os.replace(temporary, path)
            changed.append(str(path))
    return changed


def files_holding(roots: Sequence[Path], eraser: Eraser, pattern: str = "*") -> list[str]:
    """Files under `roots` whose text holds a needle (the landing zone: reported only)."""
    found = []
    for root in roots:
        for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if path.is_file() and fnmatch.fnmatch(path.name, pattern):
                try:
                    text = path.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                if eraser.found_in(text):
                    found.append(str(path))
    return found
