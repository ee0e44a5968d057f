"""A run's timeline: one bar per model run from its start to its end, on a common scale
(a model that did nothing, up to date or skipped, is a tick at its end)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

WIDTH = 720
LABEL_W = 210
ROW_H = 22


@dataclass(frozen=True)
class Bar:
    model: str
    status: str
    x: float
    width: float
    y: int
    seconds: float | None


@dataclass(frozen=True)
class Timeline:
    bars: list[Bar]
    span_s: float
    width: int
    height: int
    label_w: int = LABEL_W


def timeline(models: Sequence[dict[str, Any]], run_start: datetime | None) -> Timeline:
    """Bars for `models` (`run_json(..., models=True)["models"]`), in start order."""
    times = [t for m in models for t in (m["started_at"], m["finished_at"]) if t is not None]
    start = min([run_start, *times] if run_start else times, default=None)
    end = max(times, default=start)
    span = (end - start).total_seconds() if start and end else 0.0
    scale = (WIDTH - LABEL_W - 10) / span if span > 0 else 0.0
    ordered = sorted(models, key=lambda m: (m["started_at"] or m["finished_at"] or start,
                                            m["model"]))
    bars = []
    for index, model in enumerate(ordered):
        began = model["started_at"] or model["finished_at"]
        ended = model["finished_at"] or began
        x = (began - start).total_seconds() * scale if began and start else 0.0
        width = (ended - began).total_seconds() * scale if began and ended else 0.0
        seconds = (ended - began).total_seconds() if model["started_at"] and ended else None
        bars.append(Bar(model["model"], model["status"], LABEL_W + x, max(width, 3.0),
                        index * ROW_H, seconds))
    return Timeline(bars, span, WIDTH, max(1, len(bars)) * ROW_H + 24)
