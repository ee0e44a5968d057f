"""Training as a table kind: logged to MLflow's SQLite store, registered, retrained only when
its inputs or its code change, and promoted to `champion` only through its gate."""

from __future__ import annotations

import json
from pathlib import Path

from afluente.config import Project, load_project
from afluente.model import TableRef, load_graph
from afluente.runtime import run_project
from afluente.state import StateStore

from .conftest import (
    SCORES,
    TRAIN,
    TRAIN_MODEL,
    customers_csv,
    mlflow_client,
    statuses,
    table,
    version,
    write,
)

CUSTOMERS = TableRef("silver", "customers")


def test_training_is_logged_registered_and_recorded(ml_project: Project) -> None:
    result = run_project(ml_project)

    assert result.status == "success", result.failed
    assert (ml_project.root / ".afluente" / "mlflow.db").is_file()
    (row,) = table(ml_project, TRAIN).to_dict("records")
    assert row["version"] == 1 and row["champion"] and row["promoted"]
    assert row["run_id"] == result.run_id and row["gate"] is None
    silver = version(ml_project, CUSTOMERS)
    assert json.loads(row["inputs"]) == {"silver.customers": silver}
    graph = load_graph(ml_project)
    assert row["fingerprint"] == graph.fingerprints[TRAIN]
    client = mlflow_client(ml_project)
    run = client.get_run(row["mlflow_run_id"])
    assert run.data.params["label"] == "repeat" and run.data.params["seed"] == "42"
    assert run.data.params["input.silver.customers"] == str(silver)
    assert set(run.data.metrics) == {"auc", "accuracy"}
    assert json.loads(row["metrics"]) == run.data.metrics
    assert run.data.metrics["auc"] > 0.9  # x1 + x2 > 1 is learnable by a linear model
    registered = client.get_model_version("gold.repeat_model", "1")
    assert registered.run_id == row["mlflow_run_id"]
    prints = json.loads(registered.tags["afluente.input_fingerprints"])
    assert prints == {"silver.customers": graph.fingerprints[CUSTOMERS]}
    assert client.get_registered_model("gold.repeat_model").aliases == {"champion": 1}


def test_retrains_only_when_its_inputs_or_its_code_change(ml_dir: Path) -> None:
    first = run_project(load_project(ml_dir))

    again = run_project(load_project(ml_dir))
    assert statuses(again)[str(TRAIN)] == "up_to_date"
    assert len(table(load_project(ml_dir), TRAIN)) == 1

    write(ml_dir / "seeds" / "customers.csv", customers_csv(260))
    new_data = run_project(load_project(ml_dir))
    assert statuses(new_data)[str(TRAIN)] == "success"
    (trained,) = [m for m in new_data.models if str(m.ref) == str(TRAIN)]
    assert trained.reason == ("upstream `silver.customers` runs first; kind `train` trains "
                              "and registers a new version")
    write(ml_dir / "models" / "gold" / "repeat_model.py",
          TRAIN_MODEL.replace("LogisticRegression()", "LogisticRegression(C=0.5)"))
    new_code = run_project(load_project(ml_dir))
    assert statuses(new_code)[str(TRAIN)] == "success"

    project = load_project(ml_dir)
    rows = table(project, TRAIN).sort_values("version")
    assert list(rows["version"]) == [1, 2, 3]
    assert list(rows["champion"]) == [False, False, True]
    assert list(rows["run_id"]) == [first.run_id, new_data.run_id, new_code.run_id]
    params = mlflow_client(project).get_run(rows["mlflow_run_id"].iloc[2]).data.params
    assert params["C"] == "0.5"


def test_a_model_failing_its_gate_is_registered_but_not_champion(ml_dir: Path) -> None:
    first = run_project(load_project(ml_dir))
    scored_before = table(load_project(ml_dir), SCORES)
    # labels that no longer follow the features: the holdout AUC falls near 0.5
    write(ml_dir / "seeds" / "customers.csv", customers_csv(200, flip=True))

    result = run_project(load_project(ml_dir))

    assert result.status == "success", result.failed
    project = load_project(ml_dir)
    rows = table(project, TRAIN).sort_values("version").to_dict("records")
    assert [(r["version"], r["promoted"], r["champion"]) for r in rows] == [
        (1, True, True), (2, False, False)]
    auc = json.loads(rows[1]["metrics"])["auc"]
    assert auc < 0.7
    assert rows[1]["gate"] == f"auc {auc:.4g} (needs >= 0.7)"
    assert mlflow_client(project).get_registered_model(
        "gold.repeat_model").aliases == {"champion": 1}
    # the scores stay those of the champion: nothing new to score
    assert statuses(result)[str(SCORES)] == "up_to_date"
    assert table(project, SCORES).equals(scored_before)
    with StateStore.open(project.state_url) as store:
        trained = [e for e in store.events(result.run_id) if e.type == "model_trained"]
    assert [(e.level, e.payload["version"], e.payload["promoted"]) for e in trained] == [
        ("warning", 2, False)]
    assert first.status == "success"
