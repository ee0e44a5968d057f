"""Scoring into a gold table: only the new keys in the next run, every key again when the
champion changes, the predictions those of the registered model, drift recorded, lineage
from the predictions back to the landing files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tests.cli_inprocess import run_afluente

from afluente.config import Project, load_project
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.state import StateStore
from afluente.state.observability import ObservabilityStore
from afluente.storage import Warehouse

from .conftest import (
    SCORES,
    TRAIN,
    customers_csv,
    mlflow_client,
    prospects_csv,
    statuses,
    table,
    write,
)


def test_a_second_run_scores_only_the_new_rows(ml_dir: Path) -> None:
    first = run_project(load_project(ml_dir))
    before = table(load_project(ml_dir), SCORES).sort_values("customer_id")
    assert len(before) == 50 and set(before["model_version"]) == {1}
    # 20 more prospects; the first 50 are the same rows
    write(ml_dir / "seeds" / "prospects.csv", prospects_csv(1000, 50) +
          prospects_csv(1050, 20, seed=12).split("\n", 1)[1])

    second = run_project(load_project(ml_dir))

    assert statuses(second)[str(TRAIN)] == "up_to_date"
    (scored,) = [m for m in second.models if str(m.ref) == str(SCORES)]
    assert scored.status == "success" and scored.rows == 20 and scored.table_rows == 70
    assert scored.reason == ("upstream `silver.prospects` runs first; kind `score` scores the "
                             "keys it lacks (all of them for a new model version)")
    project = load_project(ml_dir)
    after = table(project, SCORES).sort_values("customer_id")
    old = after[after["customer_id"] < 1050].reset_index(drop=True)
    assert old.equals(before.reset_index(drop=True))  # kept, not scored again
    new = after[after["customer_id"] >= 1050]
    assert set(new["scored_at"]) != set(before["scored_at"])
    commits = Warehouse(project.warehouse_uri).history(SCORES)
    assert [c.rows_added for c in commits] == [20, 50]  # an append of the 20 new rows
    assert first.status == "success"


def test_predictions_are_those_of_the_registered_version(ml_project: Project) -> None:
    project = ml_project
    run_project(project)

    import mlflow.sklearn

    client = mlflow_client(project)
    model = mlflow.sklearn.load_model(client.get_model_version_download_uri(
        "gold.repeat_model", "1"))
    scores = table(project, SCORES).sort_values("customer_id")
    rows = table(project, TableRef("silver", "prospects")).sort_values("customer_id")
    expected = model.predict_proba(rows[["x1", "x2"]])[:, 1]
    assert np.allclose(scores["score"].to_numpy(), expected)
    assert list(scores["prediction"]) == list(model.predict(rows[["x1", "x2"]]))


def test_a_new_champion_rescores_every_row(ml_dir: Path) -> None:
    run_project(load_project(ml_dir))
    write(ml_dir / "seeds" / "customers.csv", customers_csv(300, seed=8))

    result = run_project(load_project(ml_dir))

    (scored,) = [m for m in result.models if str(m.ref) == str(SCORES)]
    assert scored.rows == 50
    assert set(table(load_project(ml_dir), SCORES)["model_version"]) == {2}


def test_prediction_drift_is_recorded_against_the_training_predictions(ml_dir: Path) -> None:
    # enough rows that the PSI measures the shift, not sampling noise (drift.MIN_ROWS)
    write(ml_dir / "seeds" / "customers.csv", customers_csv(2000))
    write(ml_dir / "seeds" / "prospects.csv", prospects_csv(1000, 1000))
    first = run_project(load_project(ml_dir))
    # new prospects far from the training set: all of them score near 1
    shifted = [f"{5000 + i},0.99,0.98" for i in range(400)]
    write(ml_dir / "seeds" / "prospects.csv",
          prospects_csv(1000, 1000) + "\n".join(shifted) + "\n")

    second = run_project(load_project(ml_dir))

    with StateStore.open(load_project(ml_dir).state_url) as store:
        calm = [e for e in store.events(first.run_id) if e.type == "prediction_drift"]
        moved = [e for e in store.events(second.run_id) if e.type == "prediction_drift"]
    assert [(e.level, e.payload["drifting"], e.payload["rows"]) for e in calm] == [
        ("info", False, 1000)]
    assert calm[0].payload["psi"] < 0.1
    assert [(e.level, e.payload["drifting"], e.payload["rows"]) for e in moved] == [
        ("warning", True, 400)]
    assert moved[0].payload["psi"] > 1.0
    # the distribution pillar of the score table: an incident opened by the drifting run
    with ObservabilityStore.open(load_project(ml_dir).state_url) as observed:
        drifts = [i for i in observed.incidents() if i.metric == "prediction.psi"]
    assert [(i.model, i.pillar, i.severity, i.opened_run_id) for i in drifts] == [
        (str(SCORES), "distribution", "warning", second.run_id)]
    assert drifts[0].details["psi"] == moved[0].payload["psi"]


def test_lineage_reaches_from_the_predictions_to_the_landing_files(ml_dir: Path) -> None:
    run_project(load_project(ml_dir))

    done = run_afluente(["-p", str(ml_dir), "lineage", str(SCORES), "--format", "json"])

    assert done.returncode == 0, done.stderr
    nodes = set(json.loads(done.stdout)["nodes"])
    assert {str(TRAIN), "silver.customers", "bronze.customers", "silver.prospects",
            "bronze.prospects"} <= nodes
    assert any(n.startswith("source:") and "customers" in n for n in nodes), nodes
