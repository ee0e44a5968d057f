"""The decorators of Python models, in the style of Spark Declarative Pipelines.

    @afluente.table(inputs=["silver.orders"], description="...")
    def dim_date(orders): ...

The table is named after the function (or `name=`); its layer is the folder of the file
(or the `layer.` prefix of `name=`). Inputs arrive as the engine's own frames (DuckDB
relations, Spark DataFrames), or as the `frame=` the function declares (`arrow`, `pandas`,
`polars`; `duckdb`/`spark` only on that engine), positionally in the order of `inputs`, or by
keyword when `inputs` is a mapping of parameter name to table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

MARKER = "__afluente_model__"


@dataclass(frozen=True)
class PythonModelSpec:
    """What a decorator recorded about a Python model function."""

    function: Callable[..., Any]
    name: str | None
    inputs: tuple[str, ...]
    keywords: tuple[str, ...] | None
    config: dict[str, Any] = field(default_factory=dict)


def table(
    _fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    inputs: Sequence[str] | Mapping[str, str] = (),
    kind: str = "full",
    **config: Any,
) -> Any:
    """Declare a materialised table built by the decorated function."""

    def wrap(fn: F) -> F:
        if isinstance(inputs, Mapping):
            refs, keywords = tuple(inputs.values()), tuple(inputs.keys())
        else:
            refs, keywords = tuple(inputs), None
        spec = PythonModelSpec(fn, name, refs, keywords, {"kind": kind, **config})
        setattr(fn, MARKER, spec)
        return fn

    return wrap(_fn) if _fn is not None else wrap


def materialized_view(
    _fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    inputs: Sequence[str] | Mapping[str, str] = (),
    **config: Any,
) -> Any:
    """Alias of :func:`table`, for users of Spark Declarative Pipelines."""
    return table(_fn, name=name, inputs=inputs, kind="full", **config)


def view(
    _fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    inputs: Sequence[str] | Mapping[str, str] = (),
    **config: Any,
) -> Any:
    """Declare a view: computed when read, never stored."""
    return table(_fn, name=name, inputs=inputs, kind="view", **config)


def train(
    _fn: Callable[..., Any] | None = None,
    *,
    label: str,
    name: str | None = None,
    inputs: Sequence[str] | Mapping[str, str] = (),
    **config: Any,
) -> Any:
    """Declare a model trained on its inputs (the training set first): the function gets
    the training rows (the holdout split off) and returns a fitted estimator; afluente
    measures `metrics=` on the holdout, logs and registers it in MLflow (docs/ml.md)."""
    return table(_fn, name=name, inputs=inputs, kind="train", label=label, frame="pandas",
                 **config)


def score(
    _fn: Callable[..., Any] | None = None,
    *,
    model: str,
    unique_key: str | Sequence[str],
    name: str | None = None,
    inputs: Sequence[str] = (),
    **config: Any,
) -> Any:
    """Declare a table of predictions of registered model `model` (a `train` table, at its
    `champion` unless `alias=` or `version=`): the function gets its inputs and returns the
    rows to score; rows whose `unique_key` was scored before by the same version are kept."""
    return table(_fn, name=name, inputs=[*inputs, model], kind="score", model=model,
                 unique_key=unique_key, frame="pandas", **config)
