"""Split the `/* @config ... */` YAML header from a SQL model's text."""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADER_OPEN = "/* @config"
_HEADER = re.compile(r"\A(\s*)/\*\s*@config[ \t]*\n?(.*?)\*/", re.DOTALL)


@dataclass(frozen=True)
class Header:
    """The YAML text of a header and the file line its first YAML line sits on."""

    yaml_text: str
    first_line: int


def split_header(text: str) -> Header | None:
    """The header at the very top of `text` (after blank space), or None."""
    match = _HEADER.match(text)
    if match is None:
        return None
    before_yaml = text[: match.start(2)]
    return Header(yaml_text=match.group(2), first_line=before_yaml.count("\n") + 1)
