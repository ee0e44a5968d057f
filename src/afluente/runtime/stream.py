"""`afluente stream`: the project's streaming sources and everything downstream of them,
run as a sequence of micro-batches.

A micro-batch is an ordinary run (`run_project`): the same locks, heartbeat, events, run
ids and model files as `afluente run`. Each streaming source ingests its next batch (rows and
source position in one Delta commit) and the downstream tables build incrementally from the
bronze versions that are new since their last build. A `Trigger` says when the next
micro-batch starts: every `interval` seconds until stopped, or, `available-now`, back to back
until the sources have nothing new.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from afluente.config import Project
from afluente.errors import ConfigError, RunError
from afluente.model import TableRef, load_graph
from afluente.runtime.reporter import Reporter
from afluente.runtime.results import RunResult
from afluente.runtime.runner import run_project
from afluente.runtime.stream_sources import STREAMING_TYPES, is_streaming

AVAILABLE_NOW = "available-now"
BYTE_PACED_TYPES = ("kafka", "files")  # the source types that take `max_bytes`
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Trigger:
    """When micro-batches run: every `interval` seconds, or (None) until drained."""

    interval: float | None
    text: str

    @property
    def available_now(self) -> bool:
        return self.interval is None


def parse_trigger(text: str) -> Trigger:
    """`1s`, `500ms`, `2m`, `1h` (continuous) or `available-now` (drain, then stop)."""
    if text.strip().lower() in (AVAILABLE_NOW, "availablenow", "once"):
        return Trigger(None, AVAILABLE_NOW)
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*", text)
    if found is None or float(found.group(1)) <= 0:
        raise ConfigError(
            f"trigger `{text}` is not an interval or `{AVAILABLE_NOW}`",
            hint="give e.g. `--trigger 1s`, `--trigger 500ms`, `--trigger 2m`, or "
            f"`--trigger {AVAILABLE_NOW}` to drain what is there and stop",
        )
    return Trigger(float(found.group(1)) * _UNITS[found.group(2)], text.strip())


def streaming_sources(project: Project) -> list[TableRef]:
    """The bronze tables of the project's streaming sources."""
    graph = load_graph(project)
    return [
        ref for ref in graph.order
        if (name := graph.nodes[ref].source_name) is not None
        and is_streaming(project.config.sources[name])
    ]


def stream_selector(project: Project, selector: str | None) -> str:
    """`selector`, or every streaming source with its downstream tables."""
    if selector:
        return selector
    sources = streaming_sources(project)
    if not sources:
        raise ConfigError(
            "the project has no streaming source to stream",
            hint=f"declare a source of type {', '.join(STREAMING_TYPES)} (or a files source "
            "with `stream: true`) in afluente.yml, or choose tables with `--select`",
        )
    return " ".join(f"{ref}+" for ref in sources)


def with_max_records(project: Project, limit: int | None) -> Project:
    """`project` with every streaming source taking at most `limit` messages per
    micro-batch (`--max-records`); a pacing key, so nothing is rebuilt for it."""
    if limit is None:
        return project
    if limit < 1:
        raise ConfigError(f"--max-records must be at least 1 (got {limit})")
    sources = {
        name: spec.model_copy(update={"max_records": limit})
        if spec.type in STREAMING_TYPES else spec
        for name, spec in project.config.sources.items()
    }
    return replace(project, config=project.config.model_copy(update={"sources": sources}))


def with_max_bytes(project: Project, size: str | None) -> Project:
    """`project` with every streaming source that can pace by size (kafka, files with
    `stream: true`) taking at most `size` (`64 MiB`, or bytes) per micro-batch
    (`--max-bytes`); a pacing key, so nothing is rebuilt for it."""
    if size is None:
        return project
    from afluente.config.sizes import parse_bytes

    try:
        limit = parse_bytes(size)
    except ValueError as exc:
        raise ConfigError(f"--max-bytes: {exc}") from None
    sources = {
        name: spec.model_copy(update={"max_bytes": limit})
        if is_streaming(spec) and spec.type in BYTE_PACED_TYPES else spec
        for name, spec in project.config.sources.items()
    }
    return replace(project, config=project.config.model_copy(update={"sources": sources}))


@dataclass(frozen=True)
class StreamResult:
    batches: int
    rows: int  # rows the streaming sources ingested
    stopped: bool  # stopped by a signal (rather than drained)


def stream_project(
    project: Project,
    trigger: Trigger,
    *,
    selector: str | None = None,
    stop: threading.Event | None = None,
    reporter: Callable[[], Reporter] | None = None,
    on_batch: Callable[[int, RunResult], None] | None = None,
    trigger_of_run: dict[str, Any] | None = None,
) -> StreamResult:
    """Run micro-batches until `stop` is set (continuous; the current micro-batch finishes
    first) or the sources are drained (available-now). A failed micro-batch stops the
    stream with a `RunError` after its commits (the next start resumes from what Delta
    holds). `trigger_of_run` is added to each micro-batch's recorded trigger (which
    schedule started the stream)."""
    stop = stop or threading.Event()
    chosen = stream_selector(project, selector)
    sources = set(streaming_sources(project))
    batches = rows = 0
    while not stop.is_set():
        started = time.monotonic()
        batches += 1
        # `stop` is not handed to the run: a micro-batch once started builds every
        # selected table, so a stop request never leaves one half done
        result = run_project(project, chosen, reporter=reporter() if reporter else None,
                             trigger={**(trigger_of_run or {}), "stream": trigger.text,
                                      "micro_batch": batches}, micro_batch=True)
        if on_batch is not None:
            on_batch(batches, result)
        if result.status != "success":
            raise RunError(
                f"micro-batch {batches} (run {result.run_id}) failed: {result.error}",
                run_id=result.run_id,
                hint="fix the cause and start the stream again: it resumes from the "
                "positions committed in bronze",
            )
        record_progress(project, result, batches, time.monotonic() - started)
        ingested = sum(m.rows or 0 for m in result.models
                       if m.ref in sources and m.status == "success")
        rows += ingested
        if trigger.available_now:
            if ingested == 0:
                return StreamResult(batches, rows, stopped=False)
            continue
        assert trigger.interval is not None
        stop.wait(max(0.0, trigger.interval - (time.monotonic() - started)))
    return StreamResult(batches, rows, stopped=True)


def record_progress(project: Project, result: RunResult, number: int, duration_s: float) -> None:
    """One `stream_progress` event per streaming source that ingested in this micro-batch:
    its rows, the micro-batch's duration, the lag per partition after the commit and the
    end-to-end latency (the micro-batch's end, every downstream table committed, minus the
    newest message's timestamp). `afluente health` and the Prometheus endpoint show the
    latest one of each source."""
    from afluente.state import Event, StateStore

    with StateStore.open(project.state_url) as state:
        committed = [e for e in state.events(result.run_id)
                     if e.type == "table_committed" and "stream" in e.payload]
        for event in committed:
            measured = event.payload["stream"]
            newest = measured.get("newest_message_at")
            latency = None if newest is None else round(
                (result.finished_at - datetime.fromisoformat(newest)).total_seconds(), 3)
            state.emit(Event(
                type="stream_progress", run_id=result.run_id, model=event.model,
                payload={"micro_batch": number, "rows": event.payload.get("rows"),
                         "duration_s": round(duration_s, 3), "latency_s": latency,
                         **measured},
            ))
