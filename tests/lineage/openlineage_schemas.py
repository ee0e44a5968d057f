"""Validate OpenLineage events against the official JSON schemas in `schemas/`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

SCHEMAS = Path(__file__).parent / "schemas"
CORE_VERSIONS = ("1-0-1", "1-0-2", "2-0-0", "2-0-1", "2-0-2", "2-1-0")


def _registry() -> Registry:
    core = json.loads((SCHEMAS / "OpenLineage.json").read_text())
    pairs = [(f"https://openlineage.io/spec/{v}/OpenLineage.json", Resource.from_contents(core))
             for v in CORE_VERSIONS]
    for file in SCHEMAS.glob("*Facet.json"):
        doc = json.loads(file.read_text())
        pairs.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(pairs)


REGISTRY = _registry()


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, registry=REGISTRY, format_checker=FormatChecker())


def validate_event(event: dict[str, Any]) -> None:
    """The event against the core spec, and every facet against its own schema (a facet
    whose schema is missing here fails: nothing goes unchecked)."""
    core = json.loads((SCHEMAS / "OpenLineage.json").read_text())
    _validator({"$ref": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
                **{k: v for k, v in core.items() if k == "$schema"}}).validate(event)
    for key, facet in _facets(event):
        name = facet["_schemaURL"].split("#")[0].rsplit("/", 1)[-1]
        file = SCHEMAS / name
        assert file.exists(), f"no schema fixture for facet {key} ({facet['_schemaURL']})"
        _validator(json.loads(file.read_text())).validate({key: facet})


def _facets(event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    groups = [event["run"].get("facets", {}), event["job"].get("facets", {})]
    for dataset in [*event.get("inputs", []), *event.get("outputs", [])]:
        groups += [dataset.get("facets", {}), dataset.get("inputFacets", {}),
                   dataset.get("outputFacets", {})]
    return [(k, v) for group in groups for k, v in group.items()]
