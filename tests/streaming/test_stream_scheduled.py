"""The scheduler and the Airflow export start available-now streams (`stream: true` on a
schedule): micro-batches until the sources have nothing new, each a run of its own."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.cli_inprocess import run_afluente

from afluente.config import load_project
from afluente.errors import ConfigError
from afluente.model import TableRef
from afluente.scheduler.loop import Scheduler
from afluente.state.schedule_state import ScheduleState, ScheduleStateStore

from .conftest import KafkaBroker
from .helpers import make_project, table

SILVER = {"silver/ids.sql": "/* @config\nkind: append\n*/\nSELECT id FROM bronze.events\n"}
YEARLY = """
schedules:
  drain:
    cron: "0 0 1 1 *"
    stream: true
"""


def _streaming_project(root: Path, bootstrap: str, topic: str, schedules: str = YEARLY) -> Path:
    make_project(root, bootstrap, f"topics: [{topic}]\nmax_records: 2\npoll_timeout: 0.2",
                 SILVER)
    with (root / "afluente.yml").open("a", encoding="utf-8") as config:
        config.write(schedules)
    return root


def test_a_stream_schedule_drains_the_topic_in_micro_batches(
    tmp_path: Path, kafka_broker: KafkaBroker, topic: str
) -> None:
    root = _streaming_project(tmp_path / "p", kafka_broker.bootstrap, topic)
    kafka_broker.produce(topic, [(f"k{i}", {"id": i}) for i in range(5)])
    project = load_project(root)
    slot = datetime(datetime.now(UTC).year, 1, 1, tzinfo=UTC)
    with ScheduleStateStore.open(project.state_url) as store:
        store.save_schedule_state(ScheduleState(
            "drain", "schedule", last_slot=slot.replace(year=slot.year - 1),
            last_status="success"))
    Scheduler(project, poll=0.1).serve(once=True)

    assert sorted(r["id"] for r in table(root).to_pylist()) == [0, 1, 2, 3, 4]
    with ScheduleStateStore.open(project.state_url) as store:
        state = store.schedule_state("schedule", "drain")
        made = sorted(store.list_runs(limit=100), key=lambda r: r.started_at)
    # max_records 2: at least three micro-batches with rows, then one that found nothing
    assert len(made) >= 4 and {r.status for r in made} == {"success"}
    assert all(r.args["trigger"]["schedule"] == "drain" for r in made)
    assert all(r.args["trigger"]["stream"] == "available-now" for r in made)
    assert (state.last_slot, state.last_status) == (slot, "success")
    assert state.last_run_id == made[-1].run_id
    silver = table(root, TableRef("silver", "ids")).to_pylist()
    assert sorted(r["id"] for r in silver) == [0, 1, 2, 3, 4]


def test_the_airflow_export_runs_a_stream_schedule_as_one_stream_task(
    tmp_path: Path, kafka_broker: KafkaBroker, topic: str
) -> None:
    root = _streaming_project(tmp_path / "p", kafka_broker.bootstrap, topic)
    out = tmp_path / "dags" / "streamp.py"
    done = run_afluente(["-p", str(root), "airflow", "export", "--start-date", "2026-01-02",
                         "--afluente-command", "afluente", "--out", str(out)])
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert 'dag_id="streamp_drain"' in text
    assert 'tasks["stream"] = BashOperator(' in text
    assert 'bash_command=AFLUENTE + " stream --trigger available-now"' in text
    assert text.count("BashOperator(") == 1  # the stream is not cut into tasks per model
    compile(text, str(out), "exec")


def test_a_stream_schedule_cannot_full_refresh(tmp_path: Path) -> None:
    root = _streaming_project(tmp_path / "p", "127.0.0.1:9", "t",
                              YEARLY + "    full_refresh: true\n")
    with pytest.raises(ConfigError, match="cannot `full_refresh`"):
        load_project(root)

