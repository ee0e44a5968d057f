"""Load YAML while remembering the line of every key, so errors can point at file:line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from afluente.errors import ConfigError, Location

KeyPath = tuple[str | int, ...]


@dataclass
class LocatedYaml:
    """A parsed YAML document plus the (1-based) line of each key path."""

    data: Any
    file: Path
    lines: dict[KeyPath, int] = field(default_factory=dict)
    line_offset: int = 0

    def location(self, path: KeyPath) -> Location:
        """The closest known line for `path` (falls back to its parents)."""
        probe = tuple(path)
        while probe and probe not in self.lines:
            probe = probe[:-1]
        line = self.lines.get(probe, 1)
        return Location(self.file, line + self.line_offset)


def load_located_yaml(text: str, file: Path, line_offset: int = 0) -> LocatedYaml:
    """Parse `text`; `line_offset` shifts line numbers when YAML is embedded in another file."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 + line_offset if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"invalid YAML: {problem}",
            location=Location(file, line, column),
            hint="check indentation and quoting on that line",
        ) from exc
    located = LocatedYaml(data=None, file=file, line_offset=line_offset)
    located.data = _convert(node, (), located.lines) if node is not None else {}
    return located


def _convert(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node))
            child = (*path, key)
            lines[child] = key_node.start_mark.line + 1
            result[key] = _convert(value_node, child, lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), lines) for i, item in enumerate(node.value)]
    return yaml.safe_load(yaml.serialize(node))
