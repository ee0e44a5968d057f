"""Score rows with a registered model version: its prediction, and the positive-class
probability of a binary classifier."""

from __future__ import annotations

import threading
from typing import Any

from afluente.errors import Location
from afluente.ml.errors import MLError
from afluente.ml.registry import Registered
from afluente.ml.tracking import Tracking, session
from afluente.ml.training import predictions

_LOADED: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()


def load(tracking: Tracking, model: Registered) -> Any:
    """The model object of `model` (loaded once per process)."""
    key = (tracking.uri, model.uri)
    with _LOCK:
        if key not in _LOADED:
            with session(tracking):
                import mlflow.sklearn

                _LOADED[key] = mlflow.sklearn.load_model(model.uri)
        return _LOADED[key]


def score(estimator: Any, model: Registered, rows: Any, location: Location,
          table: str) -> dict[str, Any]:
    """The prediction columns for `rows` (a pandas frame holding the model's features)."""
    missing = [f for f in model.features if f not in rows.columns]
    if missing:
        raise MLError(f"the rows to score lack the feature(s) {', '.join(missing)} that "
                      f"`{model.name}` v{model.version} was trained on",
                      location=location, table=table,
                      hint="return them from the scoring function (they come from the same "
                           "feature table as the training set)")
    probability, predicted = predictions(estimator, rows[list(model.features)])
    columns: dict[str, Any] = {"prediction": predicted}
    if probability is not None:
        columns["score"] = probability
    return columns
