"""Operations of a stream: after each micro-batch, the lag per partition, the micro-batch's
duration and the end-to-end latency go to the event log (`stream_progress`), `afluente
health` and the Prometheus endpoint."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import generate_latest
from tests.cli_inprocess import run_afluente

from afluente.config import load_project
from afluente.model import TableRef
from afluente.observability.prometheus import registry_for
from afluente.runtime import RunResult, run_project
from afluente.runtime.stream import parse_trigger, stream_project
from afluente.state import StateStore
from afluente.state.observability import ObservabilityStore

from .conftest import KafkaBroker
from .helpers import make_project, table, version


def test_lag_duration_and_latency_reach_the_event_log_health_and_prometheus(
    tmp_path: Path, kafka_broker: KafkaBroker, topic: str
) -> None:
    root = make_project(tmp_path / "p", kafka_broker.bootstrap,
                        f"topics: [{topic}]\nmax_records: 4\npoll_timeout: 0.3")
    before = datetime.now(UTC)
    kafka_broker.produce(topic, [(f"k{i}", {"id": i}) for i in range(10)])
    project = load_project(root)
    stop = threading.Event()

    def first_only(number: int, result: RunResult) -> None:
        stop.set()

    outcome = stream_project(project, parse_trigger("0.1s"), stop=stop, on_batch=first_only)
    assert (outcome.batches, outcome.rows) == (1, 4)

    with StateStore.open(project.state_url) as state:
        (event,) = [e for e in state.events() if e.type == "stream_progress"]
    progress = event.payload
    assert event.model == "bronze.events" and progress["micro_batch"] == 1
    assert progress["rows"] == 4 and progress["lag_total"] == 6
    # the lag per partition is the partition's end offset minus the next offset in bronze
    ends = _end_offsets(kafka_broker, topic)
    bronze = table(root).to_pylist()
    held = {p: max((r["_kafka_offset"] + 1 for r in bronze if r["_kafka_partition"] == p),
                   default=0) for p in ends}
    assert progress["lag"] == {f"{topic}/{p}": ends[p] - held[p] for p in ends}
    newest = datetime.fromisoformat(progress["newest_message_at"])
    assert before.replace(microsecond=0) <= newest <= datetime.now(UTC)
    assert progress["latency_s"] >= 0 and progress["duration_s"] > 0

    health = run_afluente(["-p", str(root), "--json", "health"])
    assert health.returncode == 0, health.stderr
    (shown,) = [t for t in json.loads(health.stdout)["tables"] if t["table"] == "bronze.events"]
    assert shown["stream"]["lag_total"] == 6 and shown["stream"]["lag"] == progress["lag"]
    text = run_afluente(["-p", str(root), "health"]).stdout
    assert "bronze.events stream: lag 6 messages" in text

    scraped = generate_latest(registry_for(project)).decode()
    for partition, lag in progress["lag"].items():
        assert (f'afluente_stream_lag_messages{{partition="{partition}",'
                f'table="bronze.events"}} {float(lag)}') in scraped
    assert 'afluente_stream_batch_rows{table="bronze.events"} 4.0' in scraped
    assert 'afluente_stream_latency_seconds{table="bronze.events"}' in scraped
    assert 'afluente_stream_batch_duration_seconds{table="bronze.events"}' in scraped


def _end_offsets(broker: KafkaBroker, topic: str) -> dict[int, int]:
    """Each partition's end offset, by reading it to its end (offsets are dense here)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "ends",
                         "enable.partition.eof": True})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(3)])
    ends, at_end = dict.fromkeys(range(3), 0), set()
    try:
        while len(at_end) < 3:
            for message in consumer.consume(100, timeout=10):
                if message.error() is None:
                    ends[message.partition()] = message.offset() + 1
                else:
                    at_end.add(message.partition())
        return ends
    finally:
        consumer.close()


def test_micro_batches_of_any_size_open_no_volume_incident_and_an_empty_one_rebuilds_nothing(
    tmp_path: Path, kafka_broker: KafkaBroker, topic: str
) -> None:
    gold = {"gold/total.sql": "SELECT count(*) AS n FROM bronze.events\n"}
    root = make_project(tmp_path / "p", kafka_broker.bootstrap, f"topics: [{topic}]", gold)
    with (root / "afluente.yml").open("a", encoding="utf-8") as config:
        config.write("alerts:\n  detector: {min_history: 3}\n")
    project = load_project(root)
    for batch in range(3):
        kafka_broker.produce(topic, [(None, {"id": batch})])
        assert run_project(project, micro_batch=True).status == "success"
    kafka_broker.produce(topic, [(None, {"id": i}) for i in range(100, 160)])
    # as a batch run, 60 rows after runs of 1 is a volume incident; as a micro-batch it is
    # only the pace of arrivals. The second micro-batch finds nothing and builds nothing.
    assert stream_project(project, parse_trigger("available-now")).batches == 2

    with ObservabilityStore.open(project.state_url) as store:
        assert store.incidents() == []
        metrics = store.metrics("bronze.events")
    assert [m.rows_added for m in metrics] == [1, 1, 1, 60]
    assert all(m.profile == {} for m in metrics)
    assert table(root, TableRef("gold", "total")).to_pylist() == [{"n": 63}]
    assert version(root, TableRef("gold", "total")) == 3  # one version per micro-batch with rows
