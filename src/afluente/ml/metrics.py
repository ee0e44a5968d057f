"""The metrics a `train` model declares, computed on the holdout, and promotion gates."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from afluente.model.model_config import GATE

# metrics computed from the positive-class probability, not the predicted label
PROBABILITY_METRICS = frozenset({"auc", "log_loss"})
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq,
}


def metric_function(name: str) -> Callable[[Any, Any], float]:
    """The scikit-learn function of metric `name` (one of :data:`METRICS`)."""
    from sklearn import metrics

    functions: dict[str, Callable[[Any, Any], float]] = {
        "accuracy": metrics.accuracy_score,
        "auc": metrics.roc_auc_score,
        "f1": metrics.f1_score,
        "log_loss": metrics.log_loss,
        "mae": metrics.mean_absolute_error,
        "precision": metrics.precision_score,
        "r2": metrics.r2_score,
        "recall": metrics.recall_score,
        "rmse": lambda y, p: float(metrics.mean_squared_error(y, p) ** 0.5),
    }
    return functions[name]


def failed_gates(gates: Mapping[str, str], measured: Mapping[str, float]) -> list[str]:
    """The gates `measured` fails, each as `auc 0.61 (needs >= 0.7)`."""
    failed: list[str] = []
    for metric, text in gates.items():
        match = GATE.match(text)
        assert match is not None  # checked when the config loaded
        value = measured.get(metric)
        if value is None or not _OPERATORS[match.group(1)](value, float(match.group(2))):
            shown = "not measured" if value is None else f"{value:.4g}"
            failed.append(f"{metric} {shown} (needs {text.strip()})")
    return failed
