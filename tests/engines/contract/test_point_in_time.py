"""Point-in-time training sets on every engine: a Python model calls
`afluente.features.training_set` (an ASOF JOIN on DuckDB, a window over a union on Spark)
over a case built to leak, and every engine's rows equal an independent brute-force
computation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable
from tests.features.test_point_in_time import brute_force, leaky_case

from afluente.config import load_project
from afluente.runtime.runner import run_project

TRAINING = """\
import afluente
from afluente import features


@afluente.table(inputs={{"labels": "gold.labels", "spend": "gold.spend",
                        "visits": "gold.visits"}})
def {name}(labels, spend, visits):
    return features.training_set(labels, label_time="as_of", exclusive={exclusive},
                                 features={{
        "spend": features.feature(spend, entity_key="customer_id", event_time="known_at",
                                  ttl={ttl!r}),
        "visits": features.feature(visits, entity_key="customer_id", event_time="known_at",
                                   ttl={ttl!r})}})
"""
VARIANTS = {"inclusive": (False, None), "exclusive_ttl": (True, timedelta(days=5))}
SQL_MODEL = """SELECT *
FROM {{ point_in_time('gold.labels', label_time='as_of', features=['gold.spend', 'gold.visits']) }}
"""


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"CAST({value!r} AS DOUBLE)"
    if isinstance(value, int):
        return str(value)
    return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}'"


def values_sql(rows: list[tuple[Any, ...]], columns: str, types: tuple[str, ...]) -> str:
    body = ",\n".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)
    casts = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in zip(columns.split(", "), types,
                                                                 strict=True))
    return f"SELECT {casts} FROM (VALUES\n{body}\n) AS t({columns})\n"


@pytest.fixture(scope="module")
def built(engine_config: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    root = tmp_path_factory.mktemp("pit")
    labels, tables = leaky_case(5)
    files = {"afluente.yml": f"name: pit\nwarehouse: warehouse\n{engine_config}\n",
             "models/gold/labels.sql": values_sql(labels, "customer_id, as_of, churned",
                                                  ("INTEGER", "TIMESTAMP", "INTEGER"))}
    for name, rows in tables.items():
        files[f"models/gold/{name}.sql"] = (
            "/* @config\nentity_key: customer_id\nevent_time: known_at\n*/\n"
            + values_sql(rows, f"customer_id, known_at, {name}",
                         ("BIGINT", "TIMESTAMP", "DOUBLE")))
    for name, (exclusive, ttl) in VARIANTS.items():
        files[f"models/gold/{name}.py"] = TRAINING.format(
            name=name, exclusive=exclusive, ttl=None if ttl is None else f"{ttl.days} days")
    files["models/gold/sql_training.sql"] = SQL_MODEL
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    result = run_project(load_project(root))
    failed = {str(m.ref): m.reason for m in result.failed}
    assert set(failed) <= {"gold.sql_training"}, failed
    return root, (labels, tables, failed)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_training_set_equals_the_brute_force_one(built: tuple[Path, Any],
                                                      variant: str) -> None:
    root, (labels, tables, _) = built
    exclusive, ttl = VARIANTS[variant]
    stored = DeltaTable(str(root / "warehouse/gold" / variant)).to_pyarrow_table()

    assert stored.column_names == ["customer_id", "as_of", "churned", "spend", "visits"]
    got = sorted(zip(*(stored[c].to_pylist() for c in stored.column_names), strict=True),
                 key=repr)
    columns = [brute_force(labels, tables[n], exclusive, ttl) for n in ("spend", "visits")]
    assert got == sorted(((*label, *found) for label, *found in zip(labels, *columns,
                                                                    strict=True)), key=repr)


def test_point_in_time_in_sql_runs_on_duckdb_and_says_what_to_do_elsewhere(
        built: tuple[Path, Any], engine_name: str) -> None:
    root, (labels, tables, failed) = built
    if engine_name != "duckdb":
        assert failed["gold.sql_training"] == (
            f"{root / 'models/gold/sql_training.sql'}:2: [gold.sql_training] point_in_time "
            f"in a SQL model runs on DuckDB (an ASOF JOIN), not on {engine_name}\n"
            "  hint: build the training set in a Python model with "
            "afluente.features.training_set, which runs on every engine (docs/ml.md)")
        return
    stored = DeltaTable(str(root / "warehouse/gold/sql_training")).to_pyarrow_table()
    got = sorted(zip(*(stored[c].to_pylist() for c in stored.column_names), strict=True),
                 key=repr)
    columns = [brute_force(labels, tables[n], False, None) for n in ("spend", "visits")]
    assert got == sorted(((*label, *found) for label, *found in zip(labels, *columns,
                                                                    strict=True)), key=repr)
