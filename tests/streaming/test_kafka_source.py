"""`type: kafka` sources against a real broker: bronze columns, rescued messages, offsets in
the Delta commit, resuming from Delta, back-pressure, and the errors bad input gets."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from afluente.errors import ConfigError

from .conftest import KafkaBroker
from .helpers import REF, failure, make_project, ok, run, table, version, warehouse


def test_messages_land_in_bronze_with_their_kafka_columns_and_bad_ones_are_rescued(
    tmp_path: Path, kafka_broker: KafkaBroker, topic: str
) -> None:
    kafka_broker.produce(topic, [("k1", {"id": 1, "amount": 2.5}), ("k2", {"id": 2})],
                         headers=[("origin", b"shop")])
    kafka_broker.produce(topic, [("k3", b"{not json"), (None, b"\xff\xfe")])
    root = make_project(tmp_path / "p", kafka_broker.bootstrap, f"topics: [{topic}]")
    ok(run(root))
    rows = table(root).sort_by([("_kafka_partition", "ascending"),
                                ("_kafka_offset", "ascending")]).to_pylist()
    assert len(rows) == 4
    good = {r["_kafka_key"]: r for r in rows if r["id"] is not None}
    assert {k: (r["id"], r["amount"]) for k, r in good.items()} == {
        "k1": (1, 2.5), "k2": (2, None)}
    assert json.loads(good["k1"]["_kafka_headers"]) == [["origin", "shop"]]
    assert good["k1"]["_kafka_topic"] == topic
    assert good["k1"]["_source"] == f"kafka://{topic}/{good['k1']['_kafka_partition']}"
    assert abs(good["k1"]["_kafka_timestamp"].timestamp() - time.time()) < 600
    bad = {r["_kafka_key"]: r for r in rows if r["id"] is None}
    assert set(bad) == {"k3", None}
    not_json = json.loads(bad["k3"]["_rescued_data"])
    assert not_json["_raw"] == "{not json" and "not JSON" in not_json["_error"]
    not_text = json.loads(bad[None]["_rescued_data"])
    assert not_text["_raw_base64"] == "//4=" and "not UTF-8" in not_text["_error"]
    # each rescued message keeps where it came from
    assert all(r["_kafka_partition"] is not None and r["_kafka_offset"] is not None
               for r in bad.values())


def test_offsets_are_committed_with_the_rows_and_the_next_run_resumes_from_delta(
    tmp_path: Path, kafka_broker: KafkaBroker, topic: str
) -> None:
    kafka_broker.produce(topic, [(f"k{i}", {"id": i}) for i in range(10)])
    root = make_project(tmp_path / "p", kafka_broker.bootstrap,
                        f"topics: [{topic}]\ngroup_id: lag-{topic}")
    ok(run(root))
    first = table(root)
    ends: dict[int, int] = {}
    for row in first.to_pylist():
        ends[row["_kafka_partition"]] = max(ends.get(row["_kafka_partition"], 0),
                                            row["_kafka_offset"] + 1)
    # the offsets are in the same commit as the rows: its progress and one app transaction
    # per partition
    (progress,) = warehouse(root).progress_history(REF)
    assert progress["kafka"] == {topic: {str(p): o for p, o in ends.items()}}
    for partition, offset in ends.items():
        app = f"afluente:kafka:events:{topic}:{partition}"
        assert warehouse(root).transaction_version(REF, app) == offset
    # the broker's committed offsets follow (for lag), but are never read back: moving them
    # back to 0 changes nothing
    consumer = Consumer({"bootstrap.servers": kafka_broker.bootstrap, "group.id": f"lag-{topic}"})
    committed = consumer.committed([TopicPartition(topic, p) for p in ends], timeout=10)
    assert {c.partition: c.offset for c in committed} == ends
    consumer.commit(offsets=[TopicPartition(topic, p, 0) for p in ends], asynchronous=False)
    consumer.close()
    before = version(root)
    ok(run(root))
    assert version(root) == before  # nothing new: no commit
    kafka_broker.produce(topic, [(f"n{i}", {"id": 100 + i}) for i in range(5)])
    ok(run(root))
    ids = sorted(table(root).column("id").to_pylist())
    assert ids == [*range(10), *range(100, 105)]


def test_max_records_bounds_a_micro_batch_and_pattern_selects_topics(
    tmp_path: Path, kafka_broker: KafkaBroker, topic: str
) -> None:
    kafka_broker.produce(topic, [(None, {"id": i}) for i in range(7)])
    root = make_project(tmp_path / "p", kafka_broker.bootstrap,
                        f"pattern: '{topic}'\nmax_records: 3")
    counts = []
    for _ in range(4):
        ok(run(root))
        counts.append(table(root).num_rows)
    assert counts == [3, 6, 7, 7]
    assert sorted(table(root).column("id").to_pylist()) == list(range(7))


def test_max_bytes_bounds_a_micro_batch_and_the_next_resumes_exactly(
    tmp_path: Path, kafka_broker: KafkaBroker, topic: str
) -> None:
    values = [json.dumps({"id": i, "pad": "x" * 80}).encode() for i in range(7)]
    assert {len(v) for v in values} == {100}
    kafka_broker.produce(topic, [("k", v) for v in values])  # 101 bytes with the key
    root = make_project(tmp_path / "p", kafka_broker.bootstrap,
                        f"topics: [{topic}]\nmax_bytes: 250")  # two messages fit, not three
    counts = []
    for _ in range(5):
        ok(run(root))
        counts.append(table(root).num_rows)
    assert counts == [2, 4, 6, 7, 7]
    rows = table(root).to_pylist()
    assert sorted(r["id"] for r in rows) == list(range(7))  # none skipped, none twice
    assert sorted(r["_kafka_offset"] for r in rows) == list(range(7))  # one partition


def test_an_unreachable_broker_is_named_within_seconds(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "127.0.0.1:1", "topics: [x]\nconnect_timeout: 2")
    started = time.monotonic()
    message = failure(run(root, retries=0))  # transient: a run would retry it
    assert time.monotonic() - started < 30  # generous: the timeout is 2 s
    assert "cannot reach the Kafka broker at 127.0.0.1:1 within 2 s" in message
    assert version(root) is None


def test_a_missing_topic_names_the_existing_ones_and_bronze_is_unchanged(
    tmp_path: Path, kafka_broker: KafkaBroker, topic: str
) -> None:
    kafka_broker.produce(topic, [(None, {"id": 1})])
    root = make_project(tmp_path / "p", kafka_broker.bootstrap, f"topics: [{topic}]")
    ok(run(root))
    before = version(root)
    yml = root / "afluente.yml"
    yml.write_text(yml.read_text().replace(f"topics: [{topic}]", "topics: [nope]"))
    message = failure(run(root))
    assert "topic `nope` does not exist" in message
    assert topic in message.split("existing topics:")[1]
    assert version(root) == before
    assert table(root).column("id").to_pylist() == [1]


ORDER_SCHEMA = {
    "type": "record", "name": "Order",
    "fields": [{"name": "id", "type": "long"}, {"name": "amount", "type": "double"},
               {"name": "note", "type": ["null", "string"], "default": None}],
}


def _avro(record: dict[str, object]) -> bytes:
    import io

    import fastavro

    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(ORDER_SCHEMA), record)
    return b"\x00\x00\x00\x00\x07" + out.getvalue()  # Confluent framing: magic, schema id 7


def test_avro_values_decode_with_the_declared_schema_and_garbage_is_rescued(
    tmp_path: Path, kafka_broker: KafkaBroker, topic: str
) -> None:
    kafka_broker.produce(topic, [
        ("a", _avro({"id": 1, "amount": 9.5, "note": "gift"})),
        ("b", _avro({"id": 2, "amount": 1.0, "note": None})),
        ("c", b"\x00\x00\x00\x00\x07\xff"),  # truncated
        ("d", b'{"id": 4}'),  # no Confluent header
    ])
    root = make_project(tmp_path / "p", kafka_broker.bootstrap,
                        f"topics: [{topic}]\nformat: avro\navro_schema: order.avsc")
    (root / "order.avsc").write_text(json.dumps(ORDER_SCHEMA))
    ok(run(root))
    rows = {r["_kafka_key"]: r for r in table(root).to_pylist()}
    assert [(rows[k]["id"], rows[k]["amount"], rows[k]["note"]) for k in "ab"] == [
        (1, 9.5, "gift"), (2, 1.0, None)]
    assert "does not decode with the declared Avro schema" in json.loads(
        rows["c"]["_rescued_data"])["_error"]
    assert "no Confluent Avro header" in json.loads(rows["d"]["_rescued_data"])["_error"]
    assert rows["d"]["id"] is None


def test_avro_without_a_schema_is_refused_at_load_naming_the_key(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "127.0.0.1:1", "topics: [x]\nformat: avro")
    with pytest.raises(ConfigError, match="`format: avro` needs `avro_schema`"):
        run(root)
