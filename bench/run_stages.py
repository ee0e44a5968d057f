"""Where one `afluente run` process spent its wall time, from the project's state store.

The state store records when the run row was opened and closed and each model's start, end
and seconds (`runs`, `model_runs` in `.afluente/state.db`). With the moment the process was
launched and its wall time that splits a run into:

  start-up   launch → run row opened (imports, project load, graph; the plan is inside the run)
  run        run row opened → closed (observe, plan, every model, publish)
  post-run   run row closed → process exit (the observability pass: metrics, profiles,
             incidents; then interpreter exit)

and the models' own seconds. Timestamps are UTC, written by the same machine clock.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from _common import Measurement


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    stamp = dt.datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.timestamp()


def run_stages(project: Path, launched: float, measured: Measurement) -> dict[str, Any]:
    """Stages and per-model seconds of the latest run in `project`; empty if none recorded."""
    database = project / ".afluente" / "state.db"
    if not database.exists():
        return {}
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as con:
        row = con.execute(
            "SELECT run_id, started_at, finished_at FROM runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return {}
        models = con.execute(
            "SELECT model, duration_s, started_at, finished_at FROM model_runs WHERE run_id = ?",
            (row[0],),
        ).fetchall()
    started, finished = _epoch(row[1]), _epoch(row[2])
    ended = launched + measured.wall_s
    stages: dict[str, Any] = {"run_id": row[0]}
    if started is not None and finished is not None:
        stages["startup_s"] = round(started - launched, 3)
        stages["run_s"] = round(finished - started, 3)
        stages["post_run_s"] = round(ended - finished, 3)
    stages["models"] = {model: round(seconds or 0.0, 3) for model, seconds, _, _ in models}
    ends = [_epoch(end) for _, _, _, end in models]
    last = max((e for e in ends if e is not None), default=None)
    if last is not None and started is not None:
        stages["models_span_s"] = round(last - started, 3)  # run opened → last model done
    return stages
