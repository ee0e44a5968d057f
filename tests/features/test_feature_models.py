"""Feature tables and training sets inside a project: config keys, and bad input that names
the model file and the columns and leaves the previous table version in place."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from afluente.config import load_project
from afluente.errors import ConfigError, Location, ModelError
from afluente.model import TableRef, load_graph
from afluente.runtime import run_project
from afluente.storage import Warehouse

FEATURES = """\
/* @config
entity_key: customer_id
event_time: known_at
*/
SELECT * FROM (VALUES
    (1, TIMESTAMP '2024-01-01', 10.0),
    (1, TIMESTAMP '2024-02-01', 20.0),
    (2, TIMESTAMP '2024-01-15', 5.0)
) AS t(customer_id, known_at, spend)
"""
LABELS = """\
SELECT * FROM (VALUES
    ({key}, TIMESTAMP '2024-01-20', 1),
    ({key2}, TIMESTAMP '2024-01-10', 0)
) AS t(customer_id, as_of, churned)
"""
TRAINING = """\
import afluente
from afluente import features


@afluente.table(inputs={"labels": "gold.labels", "spend": "gold.spend"})
def training(labels, spend):
    return features.training_set(labels, label_time="as_of", features={
        "spend": features.feature(spend, entity_key="customer_id", event_time="known_at")})
"""
TRAINING_REF = TableRef("gold", "training")


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write(tmp_path, {"afluente.yml": "name: pit\nwarehouse: warehouse\n",
                     "models/gold/spend.sql": FEATURES,
                     "models/gold/labels.sql": LABELS.format(key="1", key2="2"),
                     "models/gold/training.py": TRAINING})
    return tmp_path


def run(root: Path) -> dict[str, tuple[str, str]]:
    result = run_project(load_project(root), "gold.training+ +gold.training")
    return {str(m.ref): (m.status, m.reason) for m in result.models}


def rows(root: Path) -> list[tuple[object, ...]]:
    table = Warehouse(load_project(root).warehouse_uri).dataset(TRAINING_REF).to_table()
    return sorted(zip(*(table[c].to_pylist() for c in table.column_names), strict=True))


def test_a_training_set_model_joins_what_was_known(root: Path) -> None:
    assert run(root)["gold.training"][0] == "success"
    assert rows(root) == [(1, datetime(2024, 1, 20), 1, 10.0),
                          (2, datetime(2024, 1, 10), 0, None)]


def test_a_key_type_mismatch_names_the_model_file_and_keeps_the_table(root: Path) -> None:
    run(root)
    warehouse = Warehouse(load_project(root).warehouse_uri)
    before = warehouse.version(TRAINING_REF)
    write(root, {"models/gold/labels.sql": LABELS.format(key="'1'", key2="'2'")})

    found = run(root)
    status, reason = found["gold.training"]

    assert status == "failed", reason
    assert str(root / "models/gold/training.py") in reason
    assert ("entity key types differ: `customer_id` is VARCHAR in label table `labels` but "
            "`customer_id` is INTEGER in feature table `spend`") in reason
    assert warehouse.version(TRAINING_REF) == before
    assert rows(root)[0][3] == 10.0


def test_a_feature_table_without_its_event_time_column_fails_its_build(root: Path) -> None:
    write(root, {"models/gold/spend.sql": FEATURES.replace("event_time: known_at",
                                                             "event_time: seen_at")})

    status, reason = run(root)["gold.spend"]

    assert status == "failed", reason
    assert str(root / "models/gold/spend.sql") in reason
    assert ("`event_time: seen_at` is not a column of the model's output (columns: "
            "customer_id, known_at, spend)") in reason


def test_entity_key_needs_an_event_time(root: Path) -> None:
    write(root, {"models/gold/spend.sql": FEATURES.replace("event_time: known_at\n", "")})

    with pytest.raises(ConfigError, match="`entity_key` needs `event_time: <column>`") as caught:
        run(root)

    assert caught.value.location == Location(root / "models/gold/spend.sql", 2)


SQL_TRAINING = """\
/* @config
description: the churn training set
*/
SELECT *
FROM {{{{ point_in_time('gold.labels', label_time='as_of',
                       features=['gold.spend']{options}) }}}}
"""


@pytest.mark.parametrize(("options", "expected"), [
    ("", [(1, datetime(2024, 1, 20), 1, 10.0), (2, datetime(2024, 1, 10), 0, None)]),
    # the spend of customer 1 on 2024-01-01 is 19 days old on 2024-01-20
    (", ttl='10 days'", [(1, datetime(2024, 1, 20), 1, None),
                         (2, datetime(2024, 1, 10), 0, None)]),
])
def test_a_sql_model_builds_the_training_set_from_the_feature_tables_config(
        root: Path, options: str, expected: list[tuple[object, ...]]) -> None:
    write(root, {"models/gold/training.py": "", "models/gold/training.sql":
                 SQL_TRAINING.format(options=options)})
    (root / "models/gold/training.py").unlink()

    assert run(root)["gold.training"][0] == "success"
    assert rows(root) == expected


def test_point_in_time_over_a_table_that_is_not_a_feature_table(root: Path) -> None:
    (root / "models/gold/training.py").unlink()
    write(root, {"models/gold/spend.sql": FEATURES.replace("entity_key: customer_id\n", "")
                 .replace("event_time: known_at\n", ""),
                 "models/gold/training.sql": SQL_TRAINING.format(options="")})

    with pytest.raises(ModelError) as caught:
        load_graph(load_project(root), cache=False)

    assert caught.value.message == ("`gold.spend` is not a feature table: it declares no "
                                    "`entity_key` and `event_time`")
    assert caught.value.location == Location(root / "models/gold/training.sql", 5)


def test_point_in_time_with_a_wrong_option(root: Path) -> None:
    (root / "models/gold/training.py").unlink()
    write(root, {"models/gold/training.sql": SQL_TRAINING.format(options=", tll='1d'")})

    with pytest.raises(ModelError, match="unknown option `tll`") as caught:
        load_graph(load_project(root), cache=False)

    assert caught.value.location == Location(root / "models/gold/training.sql", 5)


def test_a_sql_point_in_time_key_mismatch_names_the_model_file_line_and_columns(
        root: Path) -> None:
    (root / "models/gold/training.py").unlink()
    write(root, {"models/gold/training.sql": SQL_TRAINING.format(options="")})
    run(root)
    warehouse = Warehouse(load_project(root).warehouse_uri)
    before = warehouse.version(TRAINING_REF)
    write(root, {"models/gold/labels.sql": LABELS.format(key="'1'", key2="'2'")})

    status, reason = run(root)["gold.training"]

    assert status == "failed", reason
    assert reason.startswith(f"{root / 'models/gold/training.sql'}:5: ")
    assert ("entity key types differ: `customer_id` is VARCHAR in label table `gold.labels` "
            "but `customer_id` is INTEGER in feature table `gold.spend`") in reason
    assert warehouse.version(TRAINING_REF) == before
