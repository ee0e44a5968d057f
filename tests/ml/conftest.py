"""A small project with a `train` model and a `score` model, on MLflow's SQLite store.

Customers have two features; those with `x1 + x2 > 1` come back (`repeat = 1`), so a
logistic regression learns it well. `seeds/customers.csv` is the training set,
`seeds/prospects.csv` the rows to score.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from afluente.config import Project, load_project
from afluente.model import TableRef
from afluente.storage import Warehouse

pytest.importorskip("mlflow", reason="the ml extra: pip install 'afluente[ml]'")
pytest.importorskip("sklearn", reason="the ml extra: pip install 'afluente[ml]'")

TRAIN = TableRef("gold", "repeat_model")
SCORES = TableRef("gold", "repeat_scores")

TRAIN_MODEL = '''\
import afluente
from sklearn.linear_model import LogisticRegression


@afluente.train(inputs=["silver.customers"], label="repeat", metrics=["auc", "accuracy"],
                promote_if={"auc": ">= 0.7"})
def repeat_model(training_set):
    features = training_set[["x1", "x2"]]
    return LogisticRegression().fit(features, training_set["repeat"])
'''

SCORE_MODEL = '''\
import afluente


@afluente.score(model="gold.repeat_model", inputs=["silver.prospects"],
                unique_key="customer_id")
def repeat_scores(prospects):
    return prospects[["customer_id", "x1", "x2"]]
'''


def customers_csv(rows: int, seed: int = 7, flip: bool = False) -> str:
    """`rows` customers; `flip`: the label is the opposite (a model learns nothing good)."""
    rng = random.Random(seed)
    lines = ["customer_id,x1,x2,repeat"]
    for i in range(rows):
        x1, x2 = round(rng.random(), 4), round(rng.random(), 4)
        repeat = int((x1 + x2 > 1) != flip) if not flip else rng.randint(0, 1)
        lines.append(f"{i},{x1},{x2},{repeat}")
    return "\n".join(lines) + "\n"


def prospects_csv(first: int, count: int, seed: int = 11) -> str:
    rng = random.Random(seed)
    lines = ["customer_id,x1,x2"]
    lines += [f"{i},{round(rng.random(), 4)},{round(rng.random(), 4)}"
              for i in range(first, first + count)]
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def ml_dir(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    write(root / "afluente.yml", "name: shop\n")
    write(root / "seeds" / "customers.csv", customers_csv(200))
    write(root / "seeds" / "prospects.csv", prospects_csv(1000, 50))
    write(root / "models" / "silver" / "customers.sql",
          "SELECT customer_id, x1, x2, repeat FROM bronze.customers\n")
    write(root / "models" / "silver" / "prospects.sql",
          "SELECT customer_id, x1, x2 FROM bronze.prospects\n")
    write(root / "models" / "gold" / "repeat_model.py", TRAIN_MODEL)
    write(root / "models" / "gold" / "repeat_scores.py", SCORE_MODEL)
    return root


@pytest.fixture
def ml_project(ml_dir: Path) -> Project:
    return load_project(ml_dir)


def mlflow_client(project: Project) -> Any:
    """A client of the project's own tracking store (the one runs use)."""
    from mlflow import MlflowClient

    from afluente.ml.tracking import Tracking, mlflow_module

    mlflow_module()  # telemetry off
    uri = Tracking.for_project(project.root).uri
    return MlflowClient(uri, uri)


def table(project: Project, ref: TableRef) -> Any:
    """The table's rows as a pandas frame."""
    return Warehouse(project.warehouse_uri).dataset(ref).to_table().to_pandas()


def version(project: Project, ref: TableRef) -> int | None:
    return Warehouse(project.warehouse_uri).version(ref)


def statuses(result: Any) -> dict[str, str]:
    return {str(m.ref): m.status for m in result.models}
