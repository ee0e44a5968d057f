"""YAML loaded with the line of every key, for errors that point at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from afluente.config.yaml_lines import load_located_yaml
from afluente.errors import ConfigError, Location

FILE = Path("x.yml")
TEXT = """\
# comment
name: p
sources:
  orders:
    type: files
    tags:
      - a
      - b
"""


def test_every_key_and_item_has_its_line() -> None:
    doc = load_located_yaml(TEXT, FILE)

    assert doc.data == {"name": "p", "sources": {"orders": {"type": "files", "tags": ["a", "b"]}}}
    assert doc.lines[("name",)] == 2
    assert doc.lines[("sources", "orders")] == 4
    assert doc.lines[("sources", "orders", "type")] == 5
    assert doc.lines[("sources", "orders", "tags", 1)] == 8


def test_location_falls_back_to_the_nearest_known_parent() -> None:
    doc = load_located_yaml(TEXT, FILE)

    assert doc.location(("sources", "orders", "path")) == Location(FILE, 4)
    assert doc.location(("nope", "deeper")) == Location(FILE, 2)  # the root mapping's start


def test_line_offset_shifts_locations_into_the_host_file() -> None:
    doc = load_located_yaml("kind: view\ntags: [a]\n", FILE, line_offset=10)

    assert doc.location(("tags",)) == Location(FILE, 12)


def test_yaml_error_location_is_shifted_too() -> None:
    with pytest.raises(ConfigError) as caught:
        load_located_yaml("a: 1\nb: 'open\n", FILE, line_offset=4)

    assert caught.value.message == "invalid YAML: found unexpected end of stream"
    assert caught.value.location == Location(FILE, 7, 1)


def test_empty_document_is_an_empty_mapping() -> None:
    assert load_located_yaml("# nothing\n", FILE).data == {}
