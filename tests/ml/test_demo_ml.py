"""`afluente demo --ml` (`make demo-ml`): the repeat-purchase model is trained from the
demo's gold tables, registered, scored into gold, and its predictions trace back to the
landing files."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_inprocess import run_afluente

from afluente.config import load_project
from afluente.demo.build import prepare_demo
from afluente.model import TableRef
from afluente.runtime import run_project

from .conftest import mlflow_client, table


def test_the_demo_trains_registers_and_scores_the_repeat_purchase_model(
    tmp_path: Path,
) -> None:
    root = tmp_path / "demo"
    prepare_demo(root, orders=3000, ml=True)
    project = load_project(root)

    result = run_project(project)

    assert result.status == "success", [m.reason for m in result.failed]
    features = table(project, TableRef("gold", "customer_features"))
    scores = table(project, TableRef("gold", "repeat_scores"))
    assert sorted(scores["customer_id"]) == sorted(features["customer_id"])
    assert scores["score"].between(0, 1).all() and set(scores["model_version"]) == {1}
    (trained,) = table(project, TableRef("gold", "repeat_model")).to_dict("records")
    assert trained["champion"] and set(json.loads(trained["metrics"])) == {
        "auc", "accuracy", "log_loss"}
    assert mlflow_client(project).get_registered_model(
        "gold.repeat_model").aliases == {"champion": 1}
    done = run_afluente(["-p", str(root), "lineage", "gold.repeat_scores", "-f", "json"])
    assert done.returncode == 0, done.stderr
    nodes = set(json.loads(done.stdout)["nodes"])
    assert {"gold.repeat_model", "gold.repeat_training", "gold.fct_orders",
            "source:orders", "source:order_items", "source:customers"} <= nodes
