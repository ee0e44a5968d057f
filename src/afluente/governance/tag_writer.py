"""Write `pii` tags where the project declares columns: the `columns:` block of a SQL
model's `/* @config */` header. Python models and sources get the YAML to add, printed
(their configuration is code or a connector's, not a header afluente may rewrite)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from afluente.governance.classify import Suggestion
from afluente.governance.holdings import ProjectView
from afluente.model import TableRef
from afluente.model.header import split_header

_FLOW = re.compile(r"^(?P<indent>\s+)(?P<name>[A-Za-z_]\w*):\s*\{(?P<body>.*)\}\s*$")


@dataclass
class Written:
    files: list[str] = field(default_factory=list)
    yaml: dict[str, str] = field(default_factory=dict)  # where → the YAML to add by hand


def write_tags(view: ProjectView, suggestions: list[Suggestion]) -> Written:
    by_table: dict[str, list[str]] = defaultdict(list)
    for s in suggestions:
        by_table[s.table].append(s.column)
    done = Written()
    for table, columns in sorted(by_table.items()):
        node = view.graph.nodes.get(TableRef.parse(table))
        path = node.file if node is not None else None
        if path is not None and path.suffix == ".sql" and _tag_sql(path, columns):
            done.files.append(str(path))
        else:
            where = str(path) if path is not None else f"the source of {table}"
            done.yaml[where] = "columns:\n" + "".join(
                f"  {c}: {{tags: [pii]}}\n" for c in columns)
    return done


def _tag_sql(path: Path, columns: list[str]) -> bool:
    """Add `tags: [pii]` to each column of the header; False when the header has a shape
    this edit does not handle (then nothing is written)."""
    text = path.read_text(encoding="utf-8")
    header = split_header(text)
    if header is None:
        return False
    lines = header.yaml_text.splitlines()
    for column in columns:
        tagged = _tag_line(lines, column)
        if tagged is None:
            return False
        lines = tagged
    new_yaml = "\n".join(lines) + ("\n" if header.yaml_text.endswith("\n") else "")
    path.write_text(text.replace(header.yaml_text, new_yaml, 1), encoding="utf-8")
    return True


def _tag_line(lines: list[str], column: str) -> list[str] | None:
    start = next((i for i, x in enumerate(lines) if x.rstrip() == "columns:"), None)
    if start is None:
        return [*lines, "columns:", f"  {column}: {{tags: [pii]}}"]
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line.strip() and not line.startswith((" ", "\t")):
            break  # the end of the columns block
        match = _FLOW.match(line)
        if match and match["name"] == column:
            if "tags:" in match["body"]:
                return None  # tags already declared: leave them to the user
            body = match["body"].strip()
            lines[i] = f"{match['indent']}{column}: {{{body}, tags: [pii]}}" if body else \
                f"{match['indent']}{column}: {{tags: [pii]}}"
            return lines
        if line.strip().startswith(f"{column}:"):
            return None  # a block mapping: leave it
    return [*lines[:start + 1], f"  {column}: {{tags: [pii]}}", *lines[start + 1:]]
