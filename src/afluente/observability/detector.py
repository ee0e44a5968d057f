"""The anomaly detector shared by the volume and distribution pillars: a robust z-score,
|x - median| / (1.4826 * MAD), over recent healthy history. Median and MAD ignore the
outliers that would drag a mean and standard deviation; points that were incidents are left
out of the baseline by the caller, so one bad run does not teach the detector it is normal."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from afluente.config.observability import DetectorConfig

MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float


@dataclass(frozen=True)
class Verdict:
    anomalous: bool
    score: float | None  # None: not enough history to judge
    expected: float | None
    baseline: int  # how many points the judgement used


def judge(
    value: float, at: datetime, history: list[Point], config: DetectorConfig, floor: float
) -> Verdict:
    """Is `value` (observed at `at`) out of line with `history`? `floor` is the smallest
    spread assumed, so a perfectly constant history does not make every change an alarm."""
    points = history[-config.window :]
    if config.seasonality == "day_of_week":
        same_day = [p for p in points if p.at.weekday() == at.weekday()]
        if len(same_day) >= config.min_history:
            points = same_day
    if len(points) < config.min_history:
        return Verdict(False, None, None, len(points))
    values = [p.value for p in points]
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    spread = max(MAD_TO_SIGMA * mad, floor)
    score = (value - median) / spread
    return Verdict(abs(score) >= config.threshold, round(score, 2), median, len(points))
