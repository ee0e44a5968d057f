"""Forecast error metrics, in percent.

MAPE (mean absolute percentage error) leaves out the periods whose actual value is 0 (their
percentage error is undefined); sMAPE (symmetric MAPE, 0 to 200) counts a period where both
the actual and the forecast are 0 as no error. Each returns None when no period counts.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Values = npt.ArrayLike


def mape(actual: Values, predicted: Values) -> float | None:
    """mean(|actual - predicted| / |actual|) * 100 over the periods with actual != 0."""
    a, p = _pair(actual, predicted)
    kept = a != 0
    if not kept.any():
        return None
    return float(np.mean(np.abs(a[kept] - p[kept]) / np.abs(a[kept])) * 100)


def smape(actual: Values, predicted: Values) -> float | None:
    """mean(2 |actual - predicted| / (|actual| + |predicted|)) * 100; 0/0 counts as 0."""
    a, p = _pair(actual, predicted)
    if a.size == 0:
        return None
    scale = np.abs(a) + np.abs(p)
    errors = np.divide(2 * np.abs(a - p), scale, out=np.zeros_like(scale), where=scale != 0)
    return float(np.mean(errors) * 100)


def _pair(actual: Values, predicted: Values) -> tuple[npt.NDArray[np.float64],
                                                      npt.NDArray[np.float64]]:
    a = np.asarray(actual, dtype=np.float64)
    p = np.asarray(predicted, dtype=np.float64)
    if a.shape != p.shape:
        raise ValueError(f"{a.size} actual values against {p.size} predicted")
    return a, p
