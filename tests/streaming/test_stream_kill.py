"""Exactly once under kill -9: a streaming process is killed at random moments while a
producer writes keyed messages; once drained (`--trigger available-now`),
bronze and the silver table downstream hold each message exactly once (count and distinct
(partition, offset)).

The killed processes run `stream_project` (what `afluente stream` runs) in children of a
fork server that has imported afluente once, so twenty of them cost seconds, not twenty
interpreter start-ups (tests/streaming/test_stream_command.py runs the command itself).
They read at most 7 records per micro-batch, so each is always mid-stream when it dies;
what they leave is drained with a larger `max_records`, in a few micro-batches instead of
one per 7 messages (the restart resumes from the offsets in Delta whatever the batch size).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest

from afluente.config import load_project
from afluente.model import TableRef
from afluente.runtime.stream import parse_trigger, stream_project

from .conftest import KafkaBroker
from .helpers import make_project, table

KILLS = 20
BEFORE, DURING = 10, 5  # messages produced before each process starts / while it runs
MESSAGES = KILLS * (BEFORE + DURING)
SILVER = TableRef("silver", "events")
KILLED_BATCH, DRAIN_BATCH = "max_records: 7", f"max_records: {MESSAGES}"
pytestmark = pytest.mark.slow
SILVER_SQL = """
    /* @config
    kind: append
    */
    SELECT id, _kafka_key AS k, _kafka_partition AS p, _kafka_offset AS o FROM bronze.events
"""


def _produce(producer: Any, topic: str, ids: range) -> None:
    for i in ids:
        producer.produce(topic, key=f"k{i}", value=b'{"id": %d}' % i)
        producer.poll(0)
    assert producer.flush(30) == 0


def _stream(root: str, signal_to: Connection) -> None:
    """The killed process: micro-batches every 0.1 s; says when one has committed rows."""
    from afluente.config import load_project
    from afluente.runtime.stream import parse_trigger, stream_project

    def on_batch(number: int, result: Any) -> None:
        if any(m.status == "success" for m in result.models):
            signal_to.send_bytes(b"1")

    stream_project(load_project(Path(root)), parse_trigger("0.1s"), on_batch=on_batch)


def _fork_server() -> Any:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([
        "afluente.runtime.stream", "afluente.runtime.executor", "afluente.runtime.openlineage",
        "afluente.runtime.model_engines", "afluente.runtime.staging_cleanup",
        "afluente.runtime.publish", "afluente.state", "afluente.state.locks",
        "afluente.state.store", "afluente.observability", "afluente.engines.duckdb_engine",
        "afluente.connectors.kafka.connector", "confluent_kafka",
    ])
    return context


def test_kill_9_at_random_moments_loses_and_duplicates_nothing(
    tmp_path: Path, kafka_broker: KafkaBroker, topic: str
) -> None:
    root = make_project(tmp_path / "p", kafka_broker.bootstrap,
                        f"topics: [{topic}]\n{KILLED_BATCH}\npoll_timeout: 0.2",
                        {"silver/events.sql": SILVER_SQL})
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    context = _fork_server()
    producer = kafka_broker.producer()  # one for the test: thread-safe, connected once
    next_id, killed = 0, 0
    for _ in range(KILLS):
        _produce(producer, topic, range(next_id, next_id + BEFORE))
        next_id += BEFORE
        heard, told = context.Pipe(duplex=False)
        process = context.Process(target=_stream, args=(str(root), told))
        process.start()
        told.close()
        # once it has committed a micro-batch, kill it at a random moment of the next ones
        # (mid-poll, mid-write, between bronze and silver, mid-commit...) while more
        # messages arrive
        assert heard.poll(120), f"the streaming process committed nothing (exit {process.exitcode})"
        during = threading.Thread(target=_produce,
                                  args=(producer, topic, range(next_id, next_id + DURING)))
        during.start()
        next_id += DURING
        process.join(rng.uniform(0.0, 0.6))  # a micro-batch takes ~0.5 s here
        if process.is_alive():
            os.kill(process.pid, signal.SIGKILL)
            killed += 1
        process.join()
        heard.close()
        during.join()
    assert killed == KILLS, f"{KILLS - killed} streaming processes died on their own"
    config = root / "afluente.yml"
    config.write_text(config.read_text().replace(KILLED_BATCH, DRAIN_BATCH))
    drained = stream_project(load_project(root), parse_trigger("available-now"))
    assert not drained.stopped and drained.rows <= MESSAGES
    bronze = table(root)
    pairs = set(zip(bronze.column("_kafka_partition").to_pylist(),
                    bronze.column("_kafka_offset").to_pylist(), strict=True))
    assert (bronze.num_rows, len(pairs)) == (MESSAGES, MESSAGES), f"seed {seed}"
    assert sorted(bronze.column("id").to_pylist()) == list(range(MESSAGES)), f"seed {seed}"
    silver = table(root, SILVER)
    assert silver.num_rows == MESSAGES, f"seed {seed}"
    assert pc.count_distinct(silver.column("k")).as_py() == MESSAGES, f"seed {seed}"
