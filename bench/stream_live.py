"""The demo's streaming part under a steady load: end-to-end latency from produce to gold at
a 1 s trigger, micro-batch durations, and this process's memory over the run.

    python bench/stream_live.py [--seconds 300] [--rate 200] [--trigger 1s]

A local tansu broker (memory storage); the demo's checkout thread produces `--rate` order
events a second for `--seconds` while `afluente stream` keeps bronze.order_events →
silver.live_orders (merge) → gold.revenue_by_state_minute (full) a micro-batch behind, in
this process. A message's latency is the commit time of the gold version built by the
micro-batch that ingested it (Delta history, by run id) minus its Kafka timestamp. Memory is
this process's resident set (broker excluded; the producer thread included), sampled every
5 s; the slope is a least-squares fit over the samples after the first minute.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import threading
from pathlib import Path
from typing import Any


def _rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _sample_memory(stop: threading.Event, samples: list[tuple[float, float]]) -> None:
    import time

    started = time.monotonic()
    while not stop.wait(5.0):
        samples.append((time.monotonic() - started, _rss_mib()))


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _slope(points: list[tuple[float, float]]) -> float | None:
    """MiB per minute (least squares)."""
    if len(points) < 3:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var


def _latencies(root: Path) -> list[tuple[float, float]]:
    """(seconds since the first message, latency) per message."""
    from afluente.config import load_project
    from afluente.model import TableRef
    from afluente.storage import Warehouse

    warehouse = Warehouse(load_project(root).warehouse_uri)
    gold = {c.run_id: c.timestamp
            for c in warehouse.history(TableRef("gold", "revenue_by_state_minute"))}
    bronze = warehouse.dataset(TableRef("bronze", "order_events")).to_table(
        columns=["_kafka_timestamp", "_run_id"]).to_pylist()
    first = min(r["_kafka_timestamp"] for r in bronze)
    return [((r["_kafka_timestamp"] - first).total_seconds(),
             (gold[r["_run_id"]] - r["_kafka_timestamp"]).total_seconds()) for r in bronze]


def _durations(root: Path) -> list[float]:
    from afluente.config import load_project
    from afluente.state import StateStore

    with StateStore.open(load_project(root).state_url) as state:
        return [e.payload["duration_s"] for e in state.events()
                if e.type == "stream_progress"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--trigger", default="1s")
    args = parser.parse_args()
    from afluente.connectors.kafka.local_broker import local_broker
    from afluente.runtime.stream_demo import prepare_stream_demo, run_stream_demo

    root = Path(tempfile.mkdtemp(prefix="afluente-bench-live-"))
    samples: list[tuple[float, float]] = [(0.0, _rss_mib())]
    stop = threading.Event()
    sampler = threading.Thread(target=_sample_memory, args=(stop, samples), daemon=True)
    load_before = os.getloadavg()
    try:
        with local_broker() as bootstrap:
            project = prepare_stream_demo(root, bootstrap)
            sampler.start()
            outcome = run_stream_demo(project, bootstrap, seconds=args.seconds, rate=args.rate,
                                      trigger=args.trigger)
        stop.set()
        latencies = _latencies(root)
        durations = _durations(root)
    finally:
        stop.set()
        shutil.rmtree(root, ignore_errors=True)
    steady = [lat for at, lat in latencies if at >= 30] or [lat for _, lat in latencies]
    late = [(t, m) for t, m in samples if t >= 60]
    report: dict[str, Any] = {
        "seconds": args.seconds, "rate": args.rate, "trigger": args.trigger,
        "load_before": load_before, "load_after": os.getloadavg(),
        "events": outcome.events, "ingested": outcome.rows, "micro_batches": outcome.batches,
        "latency_s": {"p50": round(statistics.median(steady), 3),
                      "p95": round(_quantile(steady, 0.95), 3),
                      "max": round(max(steady), 3), "messages": len(steady),
                      "p50_all": round(statistics.median(lat for _, lat in latencies), 3)},
        "micro_batch_s": {"median": round(statistics.median(durations), 3),
                          "p95": round(_quantile(durations, 0.95), 3), "count": len(durations)},
        "rss_mib": {"start": round(samples[0][1], 1), "after_1_min": round(late[0][1], 1)
                    if late else None, "end": round(samples[-1][1], 1),
                    "max": round(max(m for _, m in samples), 1),
                    "slope_mib_per_min_after_1_min": None if (s := _slope(late)) is None
                    else round(s, 2),
                    "samples": " ".join(f"{t:.0f}s:{m:.0f}" for t, m in samples)},
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
