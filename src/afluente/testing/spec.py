"""The unit-test file format: YAML that gives input rows and expects output rows.

A file holds one test (its keys at the top level) or several under `tests:`; a file-level
`model:` is the default for its tests. Keys are validated like `afluente.yml` (unknown keys
are errors with file:line and the valid choices), so a typo never silently skips a check.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from afluente.config.validation import validate_with_locations
from afluente.config.yaml_lines import LocatedYaml, load_located_yaml
from afluente.errors import ConfigError, Location


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CsvFixture(_Strict):
    """Rows as CSV: a path relative to the test file, or the CSV text itself (multi-line)."""

    csv: str


Rows = list[dict[str, Any]]
Fixture = Rows | CsvFixture


class TestSpec(_Strict):
    """One test as written in the file."""

    __test__ = False  # not a pytest class

    name: str | None = None
    model: str | None = None
    description: str | None = None
    given: dict[str, Fixture] = Field(default_factory=dict)
    vars: dict[str, Any] = Field(default_factory=dict)
    expect: Fixture | None = None  # required; checked after the keys, so a typo shows first
    columns: list[str] | None = None
    key: list[str] | None = None
    order_matters: bool = False


class TestFile(_Strict):
    """A file of several tests."""

    __test__ = False

    model: str | None = None
    tests: list[TestSpec]


@dataclass(frozen=True)
class UnitTest:
    """A test ready to run: its spec, where it is written, and its model."""

    __test__ = False

    name: str
    model: str
    spec: TestSpec
    location: Location
    doc: LocatedYaml
    path: tuple[str | int, ...]  # key path of the test inside the file

    @property
    def file(self) -> Path:
        return Path(self.location.file)

    @property
    def id(self) -> str:
        return f"{self.model}::{self.name}"

    def where(self, *keys: str | int) -> Location:
        """The file:line of a key of this test (falls back to the test's own line)."""
        return self.doc.location((*self.path, *keys))


def load_test_file(file: Path) -> list[UnitTest]:
    """Parse and validate one test file."""
    doc = load_located_yaml(file.read_text(encoding="utf-8"), file)
    data = doc.data
    if not isinstance(data, dict):
        raise ConfigError(
            "a test file must be a mapping of keys",
            location=Location(file, 1),
            hint="start with `model: silver.orders`, `given:` and `expect:`, or a `tests:` list",
        )
    if "tests" in data:
        parsed = validate_with_locations(TestFile, data, doc)
        return [
            _unit_test(spec, parsed.model, doc, ("tests", index), f"test_{index + 1}")
            for index, spec in enumerate(parsed.tests)
        ]
    spec = validate_with_locations(TestSpec, data, doc)
    return [_unit_test(spec, None, doc, (), file.stem.removesuffix(".test"))]


def _unit_test(
    spec: TestSpec,
    default_model: str | None,
    doc: LocatedYaml,
    path: tuple[str | int, ...],
    default_name: str,
) -> UnitTest:
    model = spec.model or default_model
    if model is None:
        raise ConfigError(
            "the test does not say which model it tests",
            location=doc.location(path),
            hint="add `model: layer.table` to the test (or once at the top of the file)",
        )
    if spec.expect is None:
        raise ConfigError(
            "the test has no `expect:`",
            location=doc.location(path),
            hint="add `expect:` with the rows the model must output (`expect: []` for none)",
        )
    return UnitTest(
        name=spec.name or default_name,
        model=model.strip().lower(),
        spec=spec,
        location=doc.location(path),
        doc=doc,
        path=path,
    )
