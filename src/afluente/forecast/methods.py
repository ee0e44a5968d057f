"""Forecasting methods on one regular series (numpy only).

- `seasonal_naive`: each future period repeats the value one season before it (the
  baseline every method must beat).
- `HoltWinters`: exponential smoothing of level, trend and season (additive or
  multiplicative season), its three smoothing weights fitted by minimising the sum of
  squared one-step-ahead errors: a coarse grid, then a seeded random search around the
  best point (the same seed gives the same fit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from afluente.errors import ForecastError

Series = npt.NDArray[np.float64]
Seasonality = Literal["add", "mul"]
_GRID = np.array([0.05, 0.2, 0.4, 0.6, 0.8, 0.95])
_SEARCH_ROUNDS, _SEARCH_SAMPLES = 4, 40


def seasonal_naive(history: Series, season: int, horizon: int) -> Series:
    """The last full season repeated: period n + k gets history[n - season + k % season]."""
    require_length(history, season, season, "the seasonal-naive baseline")
    last = history[-season:]
    return np.array([last[k % season] for k in range(horizon)], dtype=np.float64)


def require_length(history: Series, needed: int, season: int, method: str,
                   series: str | None = None) -> None:
    if history.size < needed:
        name = f"series `{series}`" if series is not None else "the series"
        raise ForecastError(
            f"{name} has {history.size} points; {method} with season {season} needs at "
            f"least {needed}",
            hint="give it a longer history, or a shorter `season=`")


@dataclass(frozen=True)
class HoltWinters:
    """A fitted Holt-Winters model: its weights, final states and in-sample SSE."""

    season: int
    seasonal: Seasonality
    alpha: float
    beta: float
    gamma: float
    level: float
    trend: float
    seasonals: tuple[float, ...]  # indexed by period % season
    periods: int  # the history's length
    sse: float

    @staticmethod
    def minimum_points(season: int) -> int:
        """One season to start the level and season from, and two more points to fit."""
        return season + 2

    @classmethod
    def fit(cls, history: Series, season: int, seasonal: Seasonality = "add",
            seed: int = 0) -> HoltWinters:
        require_length(history, cls.minimum_points(season), season, "Holt-Winters")
        if seasonal == "mul" and (history <= 0).any():
            raise ForecastError("a multiplicative season needs every value above 0",
                                hint="use seasonal='add' for a series with zeros")
        weights = _minimise(lambda w: _run(history, season, seasonal, w)[0], seed)
        sse, level, trend, seasonals = _run(history, season, seasonal, weights)
        return cls(season, seasonal, *weights, level, trend, tuple(seasonals),
                   history.size, sse)

    def forecast(self, horizon: int) -> Series:
        steps = np.arange(1, horizon + 1, dtype=np.float64)
        base = self.level + steps * self.trend
        season = np.array([self.seasonals[(self.periods + k) % self.season]
                           for k in range(horizon)])
        return base + season if self.seasonal == "add" else base * season


def holt_winters(history: Series, season: int, horizon: int, seasonal: Seasonality = "add",
                 seed: int = 0) -> Series:
    return HoltWinters.fit(history, season, seasonal, seed).forecast(horizon)


def _initial(history: Series, season: int, seasonal: Seasonality
             ) -> tuple[float, float, Series]:
    """The states at the end of the first season: the trend from the season-on-season
    differences, the season from the first season's values around the trend line through
    its mean, the level where that line ends."""
    first = history[:season]
    pairs = min(season, history.size - season)
    trend = float(np.mean((history[season:season + pairs] - history[:pairs]) / season))
    line = first.mean() + (np.arange(season) - (season - 1) / 2) * trend
    seasonals = first - line if seasonal == "add" else first / line
    return float(line[-1]), trend, seasonals.astype(np.float64)


def _run(history: Series, season: int, seasonal: Seasonality,
         weights: tuple[float, float, float]) -> tuple[float, float, float, Series]:
    """The SSE of the one-step forecasts after the first season, and the final states
    (an infinite SSE when a multiplicative season meets a zero level)."""
    try:
        return _smooth(history, season, seasonal, weights)
    except ZeroDivisionError:
        return float("inf"), 0.0, 0.0, np.zeros(season)


def _smooth(history: Series, season: int, seasonal: Seasonality,
            weights: tuple[float, float, float]) -> tuple[float, float, float, Series]:
    alpha, beta, gamma = weights
    level, trend, seasonals = _initial(history, season, seasonal)
    additive = seasonal == "add"
    sse = 0.0
    for t in range(season, history.size):
        y, s = float(history[t]), float(seasonals[t % season])
        predicted = level + trend + s if additive else (level + trend) * s
        sse += (y - predicted) ** 2
        previous = level
        level = alpha * (y - s if additive else y / s) + (1 - alpha) * (level + trend)
        trend = beta * (level - previous) + (1 - beta) * trend
        seasonals[t % season] = gamma * (y - level if additive else y / level) + (
            1 - gamma) * s
    return sse, level, trend, seasonals


def _minimise(sse: object, seed: int) -> tuple[float, float, float]:
    """The weights in [0, 1]^3 with the least SSE: the best of a grid, then rounds of
    seeded random points around the best so far, each round in a smaller box."""
    assert callable(sse)
    best = min(((a, b, g) for a in _GRID for b in _GRID for g in _GRID), key=sse)
    best_sse = sse(best)
    rng = np.random.default_rng(seed)
    radius = 0.1
    for _ in range(_SEARCH_ROUNDS):
        candidates = np.clip(np.asarray(best) + rng.uniform(-radius, radius,
                                                            (_SEARCH_SAMPLES, 3)), 0.0, 1.0)
        for candidate in candidates:
            weights = (float(candidate[0]), float(candidate[1]), float(candidate[2]))
            value = sse(weights)
            if value < best_sse:
                best, best_sse = weights, value
        radius /= 2
    return (float(best[0]), float(best[1]), float(best[2]))
