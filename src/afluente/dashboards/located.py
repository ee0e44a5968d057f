"""The line and column of every key of a dashboard file, for errors that point at them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from afluente.config.yaml_lines import KeyPath
from afluente.errors import Location


@dataclass
class KeyMarks:
    """Each key path's (1-based) line and column, and the line its value starts on."""

    file: Path
    keys: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    values: dict[KeyPath, int] = field(default_factory=dict)
    text: str = ""

    def location(self, path: KeyPath) -> Location:
        """Where `path` is (its closest parent that is written, else the file's start)."""
        probe = tuple(path)
        while probe and probe not in self.keys:
            probe = probe[:-1]
        line, column = self.keys.get(probe, (1, 1))
        return Location(self.file, line, column)

    def find_in_value(self, path: KeyPath, word: str) -> Location:
        """Where `word` first appears in the value of `path` (a panel's query): the line and
        column in the file, case-insensitive; the key's place when it is not found."""
        start = self.values.get(tuple(path))
        if start is None:
            return self.location(path)
        lines = self.text.splitlines()
        needle = word.lower()
        for index in range(start - 1, len(lines)):
            at = lines[index].lower().find(needle)
            if at >= 0:
                return Location(self.file, index + 1, at + 1)
        return self.location(path)


def key_marks(text: str, file: Path) -> KeyMarks:
    """Marks for `text` (already known to parse)."""
    marks = KeyMarks(file, text=text)
    node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if node is not None:
        _record(node, (), marks)
    return marks


def _record(node: yaml.Node, path: KeyPath, marks: KeyMarks) -> None:
    marks.values.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            marks.keys[child] = (key.start_mark.line + 1, key.start_mark.column + 1)
            _record(value, child, marks)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            marks.keys[child] = (item.start_mark.line + 1, item.start_mark.column + 1)
            _record(item, child, marks)
