"""Validate OpenLineage events against the upstream OpenLineage JSON schemas vendored in
`schemas/` (see its README), with format checking on: a `uri` or `date-time` that is not one
fails, like any other schema violation."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

SCHEMAS = Path(__file__).parent / "schemas"
FACETS = SCHEMAS / "facets"
FORMATS = FormatChecker()


def _load(file: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(file.read_text())
    return doc


@cache
def _registry() -> Registry:
    files = [SCHEMAS / "OpenLineage.json", *sorted(FACETS.glob("*.json"))]
    return Registry().with_resources(
        (doc["$id"], Resource.from_contents(doc)) for doc in map(_load, files))


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, registry=_registry(), format_checker=FORMATS)


def validate_event(event: dict[str, Any]) -> None:
    """The event against the core spec, and every facet against its own schema (a facet
    whose schema is missing here fails: nothing goes unchecked)."""
    core = _load(SCHEMAS / "OpenLineage.json")
    _validator({"$ref": f"{core['$id']}#/$defs/RunEvent"}).validate(event)
    for key, facet in _facets(event):
        name = facet["_schemaURL"].split("#")[0].rsplit("/", 1)[-1]
        file = FACETS / name
        assert file.exists(), f"no upstream schema for facet {key} ({facet['_schemaURL']})"
        _validator(_load(file)).validate({key: facet})


def uri_errors(value: str) -> list[str]:
    """Why `value` is not a valid `uri` for the schemas' format checker ([] when it is)."""
    return [e.message for e in _validator({"type": "string", "format": "uri"})
            .iter_errors(value)]


def _facets(event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    groups = [event["run"].get("facets", {}), event["job"].get("facets", {})]
    for dataset in [*event.get("inputs", []), *event.get("outputs", [])]:
        groups += [dataset.get("facets", {}), dataset.get("inputFacets", {}),
                   dataset.get("outputFacets", {})]
    return [(k, v) for group in groups for k, v in group.items()]
