"""`afluente stream`: the command end to end (SIGTERM, available-now, downstream silver and
gold built from only the new bronze versions), and its triggers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from afluente.config import load_project
from afluente.errors import ConfigError
from afluente.model import TableRef
from afluente.runtime.stream import parse_trigger, stream_project

from .conftest import KafkaBroker
from .helpers import make_project, table, version, warehouse

SILVER, GOLD = TableRef("silver", "events"), TableRef("gold", "latest")
MODELS = {
    "silver/events.sql": """
        /* @config
        kind: append
        */
        SELECT id, _kafka_key AS k, _kafka_partition AS p, _kafka_offset AS o
        FROM bronze.events
    """,
    "gold/latest.sql": """
        /* @config
        kind: merge
        unique_key: k
        dedupe_by: o
        */
        SELECT k, id, o FROM silver.events
    """,
}


def afluente(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-u", "-m", "afluente.cli", "-p", str(root), *args]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def test_sigterm_stops_after_the_micro_batch_and_available_now_drains_downstream(
    tmp_path: Path, kafka_broker: KafkaBroker, topic: str
) -> None:
    root = make_project(tmp_path / "p", kafka_broker.bootstrap,
                        f"topics: [{topic}]\nmax_records: 4\npoll_timeout: 0.2", MODELS)
    kafka_broker.produce(topic, [(f"k{i % 3}", {"id": i}) for i in range(6)])
    process = subprocess.Popen(afluente(root, "stream", "--trigger", "0.2s"), env=env(),
                               text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("micro-batch 1 "), first + process.stderr.read()  # type: ignore[union-attr]
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "stream stopped after" in out
    # the micro-batch running when SIGTERM came finished: silver has every bronze row
    before = table(root).num_rows
    assert table(root, SILVER).num_rows == before > 0
    # more messages, then a drain for cron/Airflow: it stops by itself once nothing is new
    kafka_broker.produce(topic, [(f"k{i % 3}", {"id": i}) for i in range(6, 15)])
    drained = subprocess.run(
        afluente(root, "--json", "stream", "--trigger", "available-now", "--max-records", "2"),
        env=env(), capture_output=True, text=True, timeout=120)
    assert drained.returncode == 0, drained.stderr
    payload = json.loads(drained.stdout)
    assert payload["stopped"] is False and payload["trigger"] == "available-now"
    # what was left, 2 per micro-batch (the option beats the source's 4), then an empty one
    left = 15 - before
    assert (payload["micro_batches"], payload["rows"]) == (-(-left // 2) + 1, left)
    bronze, silver = table(root), table(root, SILVER)
    assert sorted(bronze.column("id").to_pylist()) == list(range(15))
    # silver read only the bronze versions new to each micro-batch: no row twice
    assert sorted(silver.column("id").to_pylist()) == list(range(15))
    latest = {r["k"]: r["id"] for r in table(root, GOLD).to_pylist()}
    assert latest == {"k0": 12, "k1": 13, "k2": 14}


def test_a_micro_batch_of_nothing_new_commits_nothing(
    tmp_path: Path, kafka_broker: KafkaBroker, topic: str
) -> None:
    root = make_project(tmp_path / "p", kafka_broker.bootstrap, f"topics: [{topic}]", MODELS)
    kafka_broker.produce(topic, [("a", {"id": 1})])
    project = load_project(root)
    first = stream_project(project, parse_trigger("available-now"))
    assert (first.batches, first.rows, first.stopped) == (2, 1, False)
    versions = [version(root, ref) for ref in (SILVER, GOLD)]
    again = stream_project(project, parse_trigger("available-now"))
    assert (again.batches, again.rows) == (1, 0)
    assert [version(root, ref) for ref in (SILVER, GOLD)] == versions


@pytest.mark.parametrize(("text", "interval"), [
    ("1s", 1.0), ("500ms", 0.5), ("2m", 120.0), ("available-now", None), ("Available-Now", None),
])
def test_triggers(text: str, interval: float | None) -> None:
    assert parse_trigger(text).interval == interval


def test_a_bad_trigger_says_what_is_accepted() -> None:
    with pytest.raises(ConfigError, match="trigger `soon` is not an interval") as caught:
        parse_trigger("soon")
    assert "--trigger available-now" in str(caught.value.hint)


def test_a_project_without_a_streaming_source_is_told_how_to_declare_one(
    tmp_path: Path
) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "afluente.yml").write_text("name: batchonly\n")
    with pytest.raises(ConfigError, match="no streaming source"):
        stream_project(load_project(root), parse_trigger("available-now"))


def test_tuning_the_pace_of_a_stream_rebuilds_nothing_downstream(
    tmp_path: Path, kafka_broker: KafkaBroker, topic: str
) -> None:
    root = make_project(tmp_path / "p", kafka_broker.bootstrap,
                        f"topics: [{topic}]\nmax_records: 2", MODELS)
    kafka_broker.produce(topic, [(f"k{i}", {"id": i}) for i in range(3)])
    stream_project(load_project(root), parse_trigger("available-now"))
    yml = root / "afluente.yml"
    yml.write_text(yml.read_text().replace("max_records: 2", "max_records: 50\n"
                                           "    poll_timeout: 0.3\n    group_id: tuned"))
    kafka_broker.produce(topic, [("k9", {"id": 9})])
    stream_project(load_project(root), parse_trigger("available-now"))
    silver = table(root, SILVER)
    assert sorted(silver.column("id").to_pylist()) == [0, 1, 2, 9]
    last = warehouse(root).history(SILVER, limit=1)[0]
    assert last.rows_added == 1  # incremental: only the new bronze row, not a full rebuild
