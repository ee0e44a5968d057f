"""Prediction drift: how far the scores of new rows moved from the training predictions.

The training predictions (on the holdout) are kept as decile edges and the share of rows in
each bin; new scores are binned on the same edges and compared with the population
stability index (PSI). Common reading: under 0.1 stable, 0.1-0.25 moderate, over 0.25 a
shift worth a look.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

BINS = 10
EPSILON = 1e-4  # an empty bin counts as this share (the PSI of an empty bin is infinite)
WARN_PSI, ERROR_PSI = 0.1, 0.25
# fewer new scores than this: their PSI is mostly sampling noise (about 9 bins / rows), so
# it is recorded but never called a drift
MIN_ROWS = 100


@dataclass(frozen=True)
class Reference:
    """The distribution of the training predictions: inner bin edges and bin shares."""

    edges: tuple[float, ...]
    shares: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"edges": list(self.edges), "shares": list(self.shares)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reference:
        return cls(tuple(float(e) for e in data["edges"]), tuple(float(s) for s in data["shares"]))


def reference(scores: Any) -> Reference:
    """The bins of the training predictions `scores`."""
    values = np.asarray(scores, dtype=float)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, BINS + 1)[1:-1]))
    return Reference(tuple(float(e) for e in edges), tuple(_shares(values, edges)))


def psi(ref: Reference, scores: Any) -> float:
    """The population stability index of `scores` against the training predictions."""
    values = np.asarray(scores, dtype=float)
    expected = np.maximum(np.asarray(ref.shares), EPSILON)
    actual = np.maximum(np.asarray(_shares(values, np.asarray(ref.edges))), EPSILON)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def drifting(value: float, rows: int) -> bool:
    """Whether a PSI of `value` over `rows` new scores is a shift worth a warning."""
    return rows >= MIN_ROWS and value >= ERROR_PSI


def _shares(values: Any, edges: Any) -> list[float]:
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    return [float(c) / max(len(values), 1) for c in counts]
