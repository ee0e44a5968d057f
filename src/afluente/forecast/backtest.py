"""Rolling-origin backtests: refit at each origin on the history before it, forecast the
next `horizon` periods, compare with what happened.

Origins run from `first_origin` (by default the fewest points every method needs) to the
last one that still has `horizon` periods after it, every `step` periods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from afluente.errors import ForecastError
from afluente.forecast.methods import Series
from afluente.forecast.metrics import mape, smape

Method = Callable[[Series, int], Series]  # (history, horizon) -> forecast


@dataclass(frozen=True)
class BacktestPoint:
    origin: int  # index of the first forecast period (= length of the history used)
    step: int  # 1 = the period right after the origin
    actual: float
    predicted: float


def origins(length: int, horizon: int, first_origin: int, step: int = 1) -> list[int]:
    """The origins of a backtest of a series of `length` points."""
    return list(range(first_origin, length - horizon + 1, step))


def rolling_origin(series: Series, method: Method, horizon: int, first_origin: int,
                   step: int = 1) -> list[BacktestPoint]:
    found = origins(series.size, horizon, first_origin, step)
    if not found:
        raise ForecastError(
            f"a backtest of {series.size} points with {horizon} periods ahead and the first "
            f"origin at {first_origin} has no origin",
            hint="give it a longer history, or a shorter `horizon=` or `season=`")
    points = []
    for origin in found:
        predicted = method(series[:origin], horizon)
        points += [BacktestPoint(origin, k + 1, float(series[origin + k]), float(predicted[k]))
                   for k in range(horizon)]
    return points


def errors(points: list[BacktestPoint]) -> tuple[float | None, float | None]:
    """(MAPE, sMAPE) over every point of a backtest."""
    actual = np.array([p.actual for p in points])
    predicted = np.array([p.predicted for p in points])
    return mape(actual, predicted), smape(actual, predicted)
