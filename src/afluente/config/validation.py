"""Turn pydantic validation errors into ConfigErrors that name file:line, key and choices."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from afluente.config.yaml_lines import KeyPath, LocatedYaml
from afluente.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
# how pydantic prefixes the text of a ValueError/AssertionError raised in a validator
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def validate_with_locations(
    model: type[M], data: Any, doc: LocatedYaml, at: KeyPath = ()
) -> M:
    """Validate `data` (found at key path `at` of `doc`) as `model`; the first error becomes
    a ConfigError with a location."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise to_config_error(exc, model, data, doc, at) from None


def to_config_error(
    exc: ValidationError, model: type[BaseModel], data: Any, doc: LocatedYaml, at: KeyPath = ()
) -> ConfigError:
    first = first_error(exc)
    inner = data_path(first["loc"], data)
    path = (*at, *inner)
    dotted = ".".join(str(p) for p in path) or "(top level)"
    if first["type"] == "extra_forbidden":
        key = str(path[-1])
        choices = sorted(fields_at(model, inner[:-1]))
        close = difflib.get_close_matches(key, choices, n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        hint += f"valid keys here: {', '.join(choices)}"
        return ConfigError(f"unknown key `{dotted}`", location=doc.location(path), hint=hint)
    message = plain_message(first["msg"])
    if first["type"] == "literal_error":
        expected = first.get("ctx", {}).get("expected", "")
        return ConfigError(
            f"invalid value {first.get('input')!r} for `{dotted}`",
            location=doc.location(path),
            hint=f"expected {expected}",
        )
    if first["type"] == "union_tag_invalid":
        ctx = first.get("ctx", {})
        tag_path = (*path, ctx.get("discriminator", "type").strip("'"))
        return ConfigError(
            f"invalid {tag_path[-1]} {ctx.get('tag')!r} for `{dotted}`",
            location=doc.location(tag_path),
            hint=f"expected one of: {ctx.get('expected_tags')}",
        )
    if first["type"] == "union_tag_not_found":
        tag = str(first.get("ctx", {}).get("discriminator", "type")).strip("'")
        return ConfigError(
            f"missing required key `{dotted}.{tag}`",
            location=doc.location(path),
            hint=f"expected one of: {_tags_at(model, inner, tag)}",
        )
    if first["type"] == "missing":
        return ConfigError(
            f"missing required key `{dotted}`",
            location=doc.location(path),
            hint=_field_hint(model, inner),
        )
    return ConfigError(f"`{dotted}`: {message}" if path else message,
                       location=doc.location(path))


def first_error(exc: ValidationError) -> Any:
    """The error to report: an unknown key first, since a misspelt key also makes the key
    it was meant to be look missing."""
    errors = exc.errors()
    return next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])


def plain_message(message: str) -> str:
    """A validator's own sentence, without pydantic's `Value error, ` wording."""
    for prefix in _PYDANTIC_PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


def data_path(loc: tuple[int | str, ...], data: Any) -> KeyPath:
    """Drop pydantic's union tags from `loc`, keeping only steps that exist in `data`."""
    path: list[str | int] = []
    node = data
    for step in loc:
        if _has_step(node, step):
            node = node[step]
            path.append(step)
        elif isinstance(node, dict) and step == loc[-1]:
            path.append(step)  # the offending (unknown or missing) key itself
    return tuple(path)


def _field_hint(model: type[BaseModel], path: KeyPath) -> str | None:
    """The `hint` a field declares in `json_schema_extra`, if any."""
    if not path:
        return None
    parent: Any = model
    for step in path[:-1]:
        parent = _step(parent, step)
    for candidate in _models_in(parent):
        field = candidate.model_fields.get(str(path[-1]))
        extra = field.json_schema_extra if field is not None else None
        if isinstance(extra, dict) and isinstance(extra.get("hint"), str):
            return str(extra["hint"])
    return None


def _tags_at(model: type[BaseModel], path: KeyPath, tag: str) -> str:
    current: Any = model
    for step in path:
        current = _step(current, step)
    values: list[str] = []
    for candidate in _models_in(current):
        field = candidate.model_fields.get(tag)
        annotation = field.annotation if field is not None else None
        values.extend(repr(v) for v in typing.get_args(annotation))
    return ", ".join(values) or "(see the docs)"


def _has_step(node: Any, step: int | str) -> bool:
    if isinstance(node, dict):
        return step in node
    return isinstance(node, list) and isinstance(step, int) and step < len(node)


def fields_at(model: type[BaseModel], path: KeyPath) -> set[str]:
    """The field names of the model found by following `path` through `model`'s annotations."""
    current: Any = model
    for step in path:
        current = _step(current, step)
        if current is None:
            return set()
    models = _models_in(current)
    return set().union(*(m.model_fields for m in models)) if models else set()


def _step(annotation: Any, step: str | int) -> Any:
    for candidate in _models_in(annotation):
        if isinstance(step, str) and step in candidate.model_fields:
            return candidate.model_fields[step].annotation
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (dict, typing.Mapping) and len(args) == 2:
        return args[1]
    if origin in (list, tuple) and args:
        return args[0]
    return None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated or origin in (typing.Union, types.UnionType):
        found: list[type[BaseModel]] = []
        for arg in typing.get_args(annotation):
            found.extend(_models_in(arg))
        return found
    return []
