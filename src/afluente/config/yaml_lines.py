"""Load YAML while remembering the line of every key, so errors can point at file:line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

from afluente.errors import ConfigError, Location

KeyPath = tuple[str | int, ...]
# libyaml's parser when PyYAML was built with it; the pure-Python one otherwise
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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

    def part(self, at: KeyPath, data: Any) -> LocatedYaml:
        """The document under key path `at` (holding `data`), keeping each key's line."""
        size = len(at)
        lines = {path[size:]: line for path, line in self.lines.items() if path[:size] == at}
        if () not in lines:
            lines[()] = (self.location(at).line or 1) - self.line_offset
        return LocatedYaml(data=data, file=self.file, lines=lines, line_offset=self.line_offset)


def load_located_yaml(text: str, file: Path, line_offset: int = 0) -> LocatedYaml:
    """Parse `text`; `line_offset` shifts line numbers when YAML is embedded in another file."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else {}
    except yaml.YAMLError as exc:
        # errors are rare: re-parse with the pure-Python parser, whose messages say more
        _raise_yaml_error(_detailed_error(text) or exc, file, line_offset)
    finally:
        loader.dispose()
    located = LocatedYaml(data=data, file=file, line_offset=line_offset)
    if node is not None:
        _record_lines(node, (), located.lines)
    return located


def _detailed_error(text: str) -> yaml.YAMLError | None:
    try:
        yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return exc
    return None


def _raise_yaml_error(exc: yaml.YAMLError, file: Path, line_offset: int) -> NoReturn:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 + line_offset if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    raise ConfigError(
        f"invalid YAML: {problem}",
        location=Location(file, line, column),
        hint="check indentation and quoting on that line",
    ) from exc


def _record_lines(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> None:
    """Remember the line of every key path (values were constructed by the loader)."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, key_node.value)
            lines[child] = key_node.start_mark.line + 1
            _record_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*path, index), lines)
