"""The fixed cost of a micro-batch: `afluente stream --trigger available-now` over a small
Kafka project (bronze → silver merge → gold full), `--rounds` times with `--messages` new
messages each, on a local tansu broker (memory storage).

    python bench/stream_overhead.py [--rounds 8] [--messages 20]

Each round is one available-now stream: a micro-batch with the new messages, then one that
finds nothing and stops. Prints the median wall time of each kind of micro-batch (from
`stream_project`'s per-batch callback). Run it with PYTHONPATH pointing at two revisions,
alternating, to compare them (only APIs both have are used).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from kafka_ingest import TOPIC, _broker

SILVER = """/* @config
kind: merge
unique_key: order_id
*/
SELECT CAST(order_id AS BIGINT) AS order_id, status, CAST(amount AS DECIMAL(12, 2)) AS amount,
       customer
FROM bronze.orders
"""
GOLD = """SELECT status, count(*) AS orders, sum(amount) AS revenue
FROM silver.orders GROUP BY ALL
"""


def _project(root: Path, bootstrap: str) -> None:
    (root / "models" / "silver").mkdir(parents=True)
    (root / "models" / "gold").mkdir(parents=True)
    (root / "afluente.yml").write_text(
        f"name: overhead\nsources:\n  orders:\n    type: kafka\n"
        f"    bootstrap_servers: {bootstrap}\n    topics: [{TOPIC}]\n    poll_timeout: 0.2\n")
    (root / "models" / "silver" / "orders.sql").write_text(SILVER)
    (root / "models" / "gold" / "by_status.sql").write_text(GOLD)


def _produce(bootstrap: str, first: int, count: int) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i in range(first, first + count):
        value = {"order_id": i, "customer": f"c{i % 97}", "amount": round(i * 0.37, 2),
                 "status": ("created", "approved", "canceled")[i % 3]}
        producer.produce(TOPIC, key=str(i), value=json.dumps(value).encode())
    assert producer.flush(30) == 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--messages", type=int, default=20)
    args = parser.parse_args()
    from confluent_kafka.admin import AdminClient, NewTopic

    from afluente.config import load_project
    from afluente.runtime.stream import parse_trigger, stream_project

    process, bootstrap = _broker()
    root = Path(tempfile.mkdtemp(prefix="afluente-bench-overhead-"))
    with_rows: list[float] = []
    empty: list[float] = []
    try:
        admin = AdminClient({"bootstrap.servers": bootstrap})
        for future in admin.create_topics([NewTopic(TOPIC, 3, 1)]).values():
            future.result(30)
        _project(root, bootstrap)
        project = load_project(root)
        _produce(bootstrap, 0, 200)
        stream_project(project, parse_trigger("available-now"))  # first build: not measured
        for round_ in range(args.rounds):
            _produce(bootstrap, 1000 + round_ * args.messages, args.messages)
            marks = [time.perf_counter()]
            stream_project(project, parse_trigger("available-now"),
                           on_batch=lambda _n, _r, marks=marks: marks.append(time.perf_counter()))
            with_rows.append(marks[1] - marks[0])
            empty.extend(b - a for a, b in itertools.pairwise(marks[1:]))
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps({
        "rounds": args.rounds, "messages": args.messages, "load": os.getloadavg(),
        "with_rows_s": [round(x, 3) for x in with_rows], "empty_s": [round(x, 3) for x in empty],
        "with_rows_median_s": round(statistics.median(with_rows), 3),
        "empty_median_s": round(statistics.median(empty), 3),
    }))


if __name__ == "__main__":
    main()
