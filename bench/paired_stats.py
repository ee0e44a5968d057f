"""Statistics of paired benchmark runs: medians, IQR, paired ratios and how sure they are.

Two revisions measured in alternation give pairs (a_i, b_i) taken minutes apart, so a slow
spell of the shared machine hits both members of a pair. The ratio b_i / a_i per pair is what
is compared; its median gets a bootstrap confidence interval (resampling pairs) and a sign
test (how many pairs went one way), which needs no assumption about the distribution.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

BOOTSTRAP_RESAMPLES = 5000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Spread:
    """Median and interquartile range of one side's values."""

    median: float
    q1: float
    q3: float

    def text(self, digits: int) -> str:
        return f"{self.median:.{digits}f} ({self.q1:.{digits}f}-{self.q3:.{digits}f})"


@dataclass(frozen=True)
class PairedRatio:
    """The per-pair ratios b/a summarised: median, bootstrap interval and sign test."""

    n: int
    median: float
    ci_low: float
    ci_high: float
    lower_in: int  # pairs where b < a
    sign_p: float  # two-sided sign test p-value

    def verdict(self) -> str:
        """One phrase a reader can act on: a direction only when the interval excludes 1, and
        marked tentative while the sign test cannot reach p < 0.05 (fewer than 6 pairs, or
        pairs that disagree)."""
        if self.ci_low <= 1.0 <= self.ci_high:
            return "no difference resolved"
        direction = "lower" if self.ci_high < 1.0 else "higher"
        text = f"B {direction} by {abs(1 - self.median):.1%}"
        return text if self.sign_p < 0.05 else f"{text}? (too few or mixed pairs)"


def spread(values: Sequence[float]) -> Spread:
    """Median and quartiles (inclusive method: with 2 values the quartiles are interpolated)."""
    if len(values) == 1:
        return Spread(values[0], values[0], values[0])
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return Spread(q2, q1, q3)


def sign_test_p(lower: int, n: int) -> float:
    """Two-sided exact sign test: the chance of a split at least this uneven if b and a were
    exchangeable (ties are not expected with continuous timings)."""
    extreme = min(lower, n - lower)
    tail = sum(math.comb(n, k) for k in range(extreme + 1)) / 2**n
    return float(min(1.0, 2 * tail))


def paired_ratio(a: Sequence[float], b: Sequence[float], seed: int = 0) -> PairedRatio:
    """Summarise b_i / a_i over the pairs; the interval is a percentile bootstrap of the median."""
    if len(a) != len(b) or not a:
        raise ValueError(f"paired_ratio needs two equal, non-empty series (got {len(a)}, {len(b)})")
    ratios = [y / x for x, y in zip(a, b, strict=True)]
    rng = random.Random(seed)
    medians = sorted(
        statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(BOOTSTRAP_RESAMPLES)
    )
    tail = (1 - CONFIDENCE) / 2
    low = medians[int(tail * BOOTSTRAP_RESAMPLES)]
    high = medians[min(BOOTSTRAP_RESAMPLES - 1, int((1 - tail) * BOOTSTRAP_RESAMPLES))]
    lower = sum(1 for r in ratios if r < 1.0)
    return PairedRatio(len(ratios), statistics.median(ratios), low, high, lower,
                       sign_test_p(lower, len(ratios)))


def paired_difference(a: Sequence[float], b: Sequence[float]) -> float:
    """Median of b_i - a_i: for stages that can be zero, where a ratio means nothing."""
    return statistics.median(y - x for x, y in zip(a, b, strict=True))
