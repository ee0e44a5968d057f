"""Train a model: split off a holdout, call the model's function, measure, log, register.

Nothing is registered unless every step before succeeds, and the `champion` alias moves
only when the new version passes its `promote_if` gates: a failed training or gate leaves
the previous version where it was.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from afluente.errors import Location
from afluente.ml import drift
from afluente.ml.errors import MLError
from afluente.ml.metrics import PROBABILITY_METRICS, failed_gates, metric_function
from afluente.ml.tracking import Tracking, experiment_id, mlflow_module, session

log = logging.getLogger("afluente.ml")
CHAMPION = "champion"
TAG = "afluente."  # prefix of the tags afluente sets on a registered version


@dataclass(frozen=True)
class TrainRequest:
    """One training of `name` (the table's name; also its registered model name)."""

    name: str
    function: Callable[..., Any]
    frames: Sequence[Any]  # pandas frames of the inputs, the training set first
    label: str
    location: Location
    inputs: Mapping[str, int]  # each input table and the Delta version it was read at
    fingerprint: str
    run_id: str
    keywords: Sequence[str] | None = None
    metrics: Sequence[str] = ()
    promote_if: Mapping[str, str] = field(default_factory=dict)
    holdout: float = 0.25
    seed: int = 42
    input_prints: Mapping[str, str] = field(default_factory=dict)  # each input's fingerprint


@dataclass(frozen=True)
class Trained:
    version: int
    mlflow_run_id: str
    metrics: dict[str, float]
    promoted: bool
    gate: str | None  # why it was not promoted


def train(request: TrainRequest, tracking: Tracking) -> Trained:
    """Fit, measure on the holdout, log to MLflow and register a new version."""
    fit_part, holdout = _split(request)
    model = _fit(request, fit_part)
    features = _features(request, model, holdout)
    scores, predicted = predictions(model, holdout[features])
    measured = _measure(request, holdout[request.label], scores, predicted)
    failed = failed_gates(request.promote_if, measured)
    gate = "; ".join(failed) or None
    reference = drift.reference(scores if scores is not None else predicted)
    with session(tracking) as client:
        run_id, version = _log(request, client, tracking, model, features, measured)
        client.set_model_version_tag(request.name, version, TAG + "promoted", str(not failed))
        client.set_model_version_tag(request.name, version, TAG + "gate", gate or "")
        client.set_model_version_tag(request.name, version, TAG + "reference",
                                     json.dumps(reference.to_dict()))
        if not failed:
            client.set_registered_model_alias(request.name, CHAMPION, version)
    if failed:
        log.warning("%s v%s is not champion: %s", request.name, version, gate)
    return Trained(int(version), run_id, measured, not failed, gate)


def _split(request: TrainRequest) -> tuple[Any, Any]:
    from sklearn.model_selection import train_test_split

    frame = request.frames[0]
    if request.label not in frame.columns:
        first = next(iter(request.inputs), "its first input")
        raise MLError(
            f"label column `{request.label}` is not a column of the training set "
            f"`{first}` (its columns: {', '.join(map(str, frame.columns))})",
            location=request.location, table=request.name,
            hint="set `label=` to the column the model learns to predict, or add that "
                 "column to the training set's table")
    if len(frame) < 4:
        raise MLError(f"the training set has {len(frame)} rows: too few to hold out "
                      f"{request.holdout:.0%} for the metrics", location=request.location,
                      table=request.name, hint="train once the training set has rows")
    parts = train_test_split(frame, test_size=request.holdout, random_state=request.seed)
    return parts[0], parts[1]


def _fit(request: TrainRequest, fit_part: Any) -> Any:
    frames = [fit_part, *request.frames[1:]]
    try:
        if request.keywords is None:
            model = request.function(*frames)
        else:
            model = request.function(**dict(zip(request.keywords, frames, strict=True)))
    except MLError:
        raise
    except Exception as exc:
        raise MLError(f"the training function raised {type(exc).__name__}: {exc}",
                      location=_failing(exc, request.location), table=request.name,
                      hint="fix the training function; the registered versions and the "
                           "champion stay as they were") from exc
    _check_model(request, model)
    return model


def _check_model(request: TrainRequest, model: Any) -> None:
    if not (callable(getattr(model, "fit", None)) and callable(getattr(model, "predict", None))):
        raise MLError(
            f"the training function returned {type(model).__name__}, not a fitted model",
            location=request.location, table=request.name,
            hint="return the fitted estimator, e.g. `return LogisticRegression().fit(X, y)`")
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError:
        raise MLError(f"the training function returned an unfitted {type(model).__name__}",
                      location=request.location, table=request.name,
                      hint="call `.fit(X, y)` on it before returning it") from None
    except TypeError:
        pass  # not a scikit-learn estimator: fitted or not, it predicts below


def _features(request: TrainRequest, model: Any, holdout: Any) -> list[str]:
    """The columns the model predicts from: those it was fitted on when it says."""
    named = getattr(model, "feature_names_in_", None)
    features = ([str(c) for c in named] if named is not None
                else [str(c) for c in holdout.columns if c != request.label])
    if request.label in features:
        raise MLError(f"the model was fitted with the label `{request.label}` as a feature",
                      location=request.location, table=request.name,
                      hint=f"fit on `training_set.drop(columns=['{request.label}'])`")
    return features


def predictions(model: Any, rows: Any) -> tuple[Any, Any]:
    """The positive-class probability (None unless a binary classifier) and the prediction."""
    proba = getattr(model, "predict_proba", None)
    classes = getattr(model, "classes_", None)
    scores = proba(rows)[:, 1] if callable(proba) and classes is not None and \
        len(classes) == 2 else None
    return scores, model.predict(rows)


def _measure(request: TrainRequest, truth: Any, scores: Any, predicted: Any) -> dict[str, float]:
    measured: dict[str, float] = {}
    for name in request.metrics:
        given = scores if name in PROBABILITY_METRICS else predicted
        if given is None:
            raise MLError(f"metric `{name}` needs the probabilities of a binary classifier",
                          location=request.location, table=request.name,
                          hint="drop the metric or return a classifier with `predict_proba`")
        try:
            measured[name] = float(metric_function(name)(truth, given))
        except ValueError as exc:
            raise MLError(f"metric `{name}` cannot be computed on the holdout: {exc}",
                          location=request.location, table=request.name,
                          hint="check the label's values, or pick metrics that fit them"
                          ) from exc
    return measured


def _log(request: TrainRequest, client: Any, tracking: Tracking, model: Any,
         features: list[str], measured: dict[str, float]) -> tuple[str, str]:
    """Log the run and register its model; returns the MLflow run id and the version."""
    mlflow = mlflow_module()
    experiment = experiment_id(client, tracking, request.name)
    tags = {TAG + "run_id": request.run_id, TAG + "fingerprint": request.fingerprint,
            TAG + "inputs": json.dumps(dict(request.inputs), sort_keys=True),
            TAG + "input_fingerprints": json.dumps(dict(request.input_prints), sort_keys=True),
            TAG + "features": json.dumps(features), TAG + "label": request.label}
    with mlflow.start_run(experiment_id=experiment, run_name=request.run_id, tags=tags) as run:
        mlflow.log_params({**_params(model), "label": request.label,
                           "holdout": request.holdout, "seed": request.seed,
                           **{f"input.{k}": v for k, v in request.inputs.items()}})
        if measured:
            mlflow.log_metrics(measured)
        import mlflow.sklearn

        info = mlflow.sklearn.log_model(model, name="model", serialization_format="cloudpickle")
        registered = mlflow.register_model(info.model_uri, request.name, tags=tags)
    return str(run.info.run_id), str(registered.version)


def _params(model: Any) -> dict[str, str]:
    get = getattr(model, "get_params", None)
    found = get(deep=False) if callable(get) else {}
    return {str(k): str(v)[:500] for k, v in found.items()}


def _failing(exc: BaseException, origin: Location) -> Location:
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if Path(f.filename) == Path(origin.file)]
    return Location(origin.file, frames[-1].lineno) if frames else origin
