"""Bad input to `train` and `score` models: a clear error naming the model file and what to
do, and nothing committed is lost (the tables keep their Delta version, the registry its
versions and its champion)."""

from __future__ import annotations

from pathlib import Path

import pytest

from afluente.config import load_project
from afluente.runtime import run_project

from .conftest import SCORE_MODEL, SCORES, TRAIN, TRAIN_MODEL, mlflow_client, table, version, write

FIT = "    return LogisticRegression().fit(features, training_set[\"repeat\"])\n"


@pytest.mark.parametrize(("change", "message", "hint", "line"), [
    ((FIT, "    return 'a fitted model'\n"),
     "the training function returned str, not a fitted model",
     "return the fitted estimator", 5),
    ((FIT, "    return LogisticRegression()\n"),
     "the training function returned an unfitted LogisticRegression",
     "call `.fit(X, y)` on it before returning it", 5),
    (("    features = ", "    features = 1 / 0\n    features = "),
     "the training function raised ZeroDivisionError: division by zero",
     "the registered versions and the champion stay as they were", 8),
    (('label="repeat"', 'label="churn"'),
     "label column `churn` is not a column of the training set `silver.customers` (its "
     "columns: customer_id, x1, x2, repeat)",
     "set `label=` to the column the model learns to predict", 5),
])
def test_a_failed_training_keeps_the_registered_version_and_the_table(
    ml_dir: Path, change: tuple[str, str], message: str, hint: str, line: int
) -> None:
    """`line`: the failing line of the function, else its decorator's."""
    run_project(load_project(ml_dir))
    project = load_project(ml_dir)
    kept, rows = version(project, TRAIN), table(project, TRAIN)
    model_file = ml_dir / "models" / "gold" / "repeat_model.py"
    write(model_file, TRAIN_MODEL.replace(*change))

    result = run_project(load_project(ml_dir), full_refresh=True)

    assert result.status == "failed"
    (failed,) = result.failed
    assert str(failed.ref) == str(TRAIN)
    assert failed.error is not None
    assert failed.error.message == message
    assert failed.error.location is not None
    assert (Path(failed.error.location.file), failed.error.location.line) == (model_file, line)
    assert failed.error.hint is not None and hint in failed.error.hint
    assert version(project, TRAIN) == kept and table(project, TRAIN).equals(rows)
    client = mlflow_client(project)
    assert [v.version for v in client.search_model_versions("name = 'gold.repeat_model'")] \
        == [1]
    assert client.get_registered_model("gold.repeat_model").aliases == {"champion": 1}


@pytest.mark.parametrize(("setting", "message"), [
    ('alias="staging", ', "model `gold.repeat_model` has no alias `staging` (its aliases: "
                          "`champion`; versions 1)"),
    ("version=4, ", "model `gold.repeat_model` has no version 4 (it has 1)"),
])
def test_scoring_with_a_version_that_is_not_registered(
    ml_dir: Path, setting: str, message: str
) -> None:
    run_project(load_project(ml_dir))
    project = load_project(ml_dir)
    kept, rows = version(project, SCORES), table(project, SCORES)
    model_file = ml_dir / "models" / "gold" / "repeat_scores.py"
    write(model_file, SCORE_MODEL.replace("unique_key=", setting + "unique_key="))

    result = run_project(load_project(ml_dir))

    (failed,) = result.failed
    assert failed.error is not None and failed.error.message == message
    assert failed.error.location is not None
    assert Path(failed.error.location.file) == model_file
    assert failed.error.hint is not None and "`version:`" in failed.error.hint
    assert version(project, SCORES) == kept and table(project, SCORES).equals(rows)


def test_scoring_a_model_the_tracking_store_lacks_says_to_train_it(ml_dir: Path) -> None:
    run_project(load_project(ml_dir))
    kept = version(load_project(ml_dir), SCORES)
    # the team moves to a new tracking store, where nothing is registered yet
    store = ml_dir / "team" / "mlflow.db"
    store.parent.mkdir()
    write(ml_dir / "afluente.yml", f"name: shop\nml:\n  tracking_uri: sqlite:///{store}\n")

    result = run_project(load_project(ml_dir), "gold.repeat_scores", full_refresh=True)

    (failed,) = result.failed
    assert failed.error is not None
    assert failed.error.message == "no version of model `gold.repeat_model` is registered"
    assert failed.error.hint == (
        "train it (`afluente run -s gold.repeat_model --full-refresh`) into this tracking "
        "store (`ml: tracking_uri` in afluente.yml, by default .afluente/mlflow.db)")
    assert version(load_project(ml_dir), SCORES) == kept
