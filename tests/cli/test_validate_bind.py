"""`afluente validate` binds every SQL model over the schemas it reads, before any run.

The starter project is run once so its bronze tables exist; then a misspelt column is
caught by `validate` at the model's line and column with DuckDB's candidate name, and a run
reports the same position while the stored table keeps its previous version. Before any run,
a csv/tsv source's bronze columns come from its landing files' headers, a parquet source's
from the footers and a json one's from DuckDB's type sample, typed as the ingest lands them.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tests.cli_inprocess import run_afluente

from afluente.cli.scaffold import scaffold


def afluente(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_afluente(["-p", str(root), *args], env={"NO_COLOR": "1"})


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bind").resolve() / "shop"
    scaffold(root)
    assert afluente(root, "run").returncode == 0
    return root


def _misspell(file: Path, right: str, wrong: str) -> str:
    text = file.read_text()
    file.write_text(text.replace(right, wrong, 1))
    return text


def test_validate_names_the_misspelt_column_and_the_candidate(built: Path) -> None:
    model = built / "models/silver/orders.sql"
    original = _misspell(model, "CAST(order_id", "CAST(ordr_id")
    try:
        result = afluente(built, "validate")
    finally:
        model.write_text(original)

    assert result.returncode == 2
    first, hint = result.stderr.splitlines()
    assert first == (
        f"error: {model}:5:10: `silver.orders` does not bind: DuckDB: Binder Error: "
        'Referenced column "ordr_id" not found in FROM clause!'
    )
    assert hint.startswith("  hint: did you mean `order_id`?")
    assert hint.endswith(" — fix the model's SQL; nothing was run")


def test_validate_binds_over_upstream_models_columns(built: Path) -> None:
    model = built / "models/gold/revenue_by_state.sql"
    original = _misspell(model, "sum(o.amount)", "sum(o.amout)")
    try:
        result = afluente(built, "validate")
    finally:
        model.write_text(original)

    assert result.returncode == 2
    first, hint = result.stderr.splitlines()
    assert first.startswith(f"error: {model}:5:38: `gold.revenue_by_state` does not bind: ")
    assert first.endswith('"o" does not have a column named "amout"')
    assert hint.startswith("  hint: did you mean `amount`?")


@pytest.mark.parametrize("ending", [";\n", "  -- per state"])
def test_the_last_line_of_a_model_binds_and_reports_at_its_position(
    built: Path, ending: str
) -> None:
    # one `CREATE TABLE ... AS <sql> WITH NO DATA` per model: the suffix never lands in the
    # model's comment or after its `;`, and an error on its last line keeps its column
    model = built / "models/gold/revenue_by_state.sql"
    original = model.read_text()
    try:
        model.write_text(original.rstrip() + ending)
        assert afluente(built, "validate").returncode == 0
        model.write_text(original.rstrip().replace("GROUP BY c.uf", "GROUP BY c.fu") + ending)
        result = afluente(built, "validate")
    finally:
        model.write_text(original)

    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {model}:8:10: `gold.revenue_by_state` does not bind")


def test_run_reports_the_real_line_and_keeps_the_previous_version(built: Path) -> None:
    model = built / "models/silver/orders.sql"
    before = json.loads(afluente(built, "--json", "history", "silver.orders").stdout)
    original = _misspell(model, "CAST(order_id", "CAST(ordr_id")
    try:
        result = afluente(built, "--json", "run", "-s", "silver.orders")
    finally:
        model.write_text(original)

    assert result.returncode == 1
    failed = [m for m in json.loads(result.stdout)["models"] if m["status"] == "failed"]
    assert [m["table"] for m in failed] == ["silver.orders"]
    assert failed[0]["reason"].startswith(f"{model}:5:10: ")
    assert "hint: did you mean `order_id`?" in failed[0]["reason"]
    after = json.loads(afluente(built, "--json", "history", "silver.orders").stdout)
    assert after == before


def test_validate_binds_a_fresh_project_over_its_landing_files_headers(
    tmp_path: Path,
) -> None:
    root = tmp_path / "fresh"
    scaffold(root)

    result = afluente(root, "--json", "validate")

    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert (payload["bound"], payload["not_bound"]) == (3, {})
    model = root / "models/silver/orders.sql"
    _misspell(model, "CAST(order_id", "CAST(ordr_id")

    result = afluente(root, "validate")

    assert result.returncode == 2
    first, hint = result.stderr.splitlines()
    assert first == (
        f"error: {model}:5:10: `silver.orders` does not bind: DuckDB: Binder Error: "
        'Referenced column "ordr_id" not found in FROM clause!'
    )
    assert hint.startswith("  hint: did you mean `order_id`?")
    assert not (root / "warehouse").exists()  # nothing was ingested to find it


def _landing_project(root: Path, source: str, model: str) -> Path:
    (root / "models/silver").mkdir(parents=True)
    (root / "landing").mkdir()
    (root / "afluente.yml").write_text(f"name: ahead\nwarehouse: warehouse\nsources:\n{source}")
    (root / "models/silver/t.sql").write_text(model)
    return root


def test_headers_of_every_file_and_the_type_hints_give_bronze_its_columns(
    tmp_path: Path,
) -> None:
    root = _landing_project(
        tmp_path / "hints",
        "  s:\n    type: files\n    path: landing/*.tsv\n    format: tsv\n"
        "    columns: {amount: INTEGER}\n",
        "SELECT amount + 1 AS next, note, _source\nFROM bronze.s\n",
    )
    (root / "landing/a.tsv").write_text("id\tamount\n1\t2\n")
    (root / "landing/b.tsv").write_text("id\tamount\tnote\n2\t3\tx\n")

    result = afluente(root, "--json", "validate")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["bound"] == 1
    (root / "models/silver/t.sql").write_text("SELECT amount + 1 AS next, nte\nFROM bronze.s\n")

    result = afluente(root, "validate")

    assert result.returncode == 2
    first, hint = result.stderr.splitlines()
    assert first.startswith(f"error: {root / 'models/silver/t.sql'}:1:")
    assert hint.startswith("  hint: did you mean `note`?")


def test_validate_notes_models_over_a_source_it_cannot_read_ahead(tmp_path: Path) -> None:
    root = _landing_project(
        tmp_path / "orc",
        "  s:\n    type: files\n    path: landing/*.orc\n    format: orc\n",
        "SELECT id FROM bronze.s\n",
    )
    (root / "landing/a.orc").write_bytes(b"not read by validate")

    result = afluente(root, "--json", "validate")

    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert (payload["bound"], payload["not_bound"]) == (0, {"silver.t": "bronze.s"})


DOCUMENTS = (
    "  j:\n    type: files\n    path: landing/*.json\n    format: json\n"
    "  p:\n    type: files\n    path: landing/*.parquet\n    format: parquet\n"
)
DOCUMENT_MODEL = (
    "SELECT j.id + 1 AS next, upper(j.kind) AS kind, p.amount * 2 AS twice,\n"
    "       year(p.paid_at) AS paid_year, p.note\n"
    "FROM bronze.j AS j JOIN bronze.p AS p ON p.id = j.id\n"
)


def test_parquet_footers_and_a_json_sample_give_bronze_the_ingests_columns(
    tmp_path: Path,
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    from datetime import datetime

    import pyarrow as pa

    from afluente.config import load_project
    from afluente.connectors import connector_for
    from afluente.engines.duckdb_files import DuckDBFileScanner
    from afluente.runtime.query import query_project

    root = _landing_project(tmp_path / "documents", DOCUMENTS, DOCUMENT_MODEL)
    (root / "landing/a.json").write_text('[{"id": 1, "kind": "a"}, {"id": 2, "kind": 5}]')
    paid = datetime(2024, 5, 1, 12, 30)
    pq.write_table(pa.table({"id": [1], "amount": [10]}), root / "landing/a.parquet")
    pq.write_table(pa.table({"id": [2], "amount": [20], "paid_at": [paid], "note": ["x"]}),
                   root / "landing/b.parquet")  # a column only some files have: the union

    result = afluente(root, "--json", "validate")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["bound"] == 1
    project = load_project(root)
    declared = {name: connector_for(project, name).declared_columns(DuckDBFileScanner())
                for name in ("j", "p")}
    assert declared == {"j": {"id": "BIGINT", "kind": "VARCHAR"},
                        "p": {"id": "BIGINT", "amount": "BIGINT", "paid_at": "TIMESTAMP",
                              "note": "VARCHAR"}}
    assert not (root / "warehouse").exists()  # nothing was ingested to tell them

    assert afluente(root, "run").returncode == 0
    for name, columns in declared.items():  # the ingest lands the same types
        landed = query_project(load_project(root), f"DESCRIBE bronze.{name}").to_pylist()
        types = {r["column_name"]: r["column_type"] for r in landed}
        assert {column: types[column] for column in columns} == columns


def test_a_misspelt_field_of_a_json_source_is_caught_before_its_first_run(
    tmp_path: Path,
) -> None:
    root = _landing_project(
        tmp_path / "json",
        "  s:\n    type: files\n    path: landing/*.json\n    format: json\n",
        "SELECT id,\n       upper(knd) AS kind\nFROM bronze.s\n",
    )
    (root / "landing/a.json").write_text('[{"id": 1, "kind": "a"}]')

    result = afluente(root, "validate")

    assert result.returncode == 2
    first, hint = result.stderr.splitlines()
    assert first.startswith(f"error: {root / 'models/silver/t.sql'}:2:14: ")
    assert hint.startswith("  hint: did you mean `kind`?")
    assert not (root / "warehouse").exists()


def test_an_enforced_contract_gives_its_columns_before_the_model_ever_ran(
    tmp_path: Path,
) -> None:
    root = tmp_path / "contract"
    (root / "models/silver").mkdir(parents=True)
    (root / "models/gold").mkdir(parents=True)
    (root / "afluente.yml").write_text("name: contract\nwarehouse: warehouse\n")
    (root / "models/silver/rates.py").write_text(
        "import afluente\n\n\n"
        "@afluente.table(contract='enforced',\n"
        "                columns={'currency': {'type': 'VARCHAR'}, 'rate': {'type': 'DOUBLE'}})\n"
        "def rates():\n"
        "    raise RuntimeError('validate never runs a model')\n"
    )
    gold = root / "models/gold/priced.sql"
    gold.write_text("SELECT currency,\n       rte * 100 AS pct\nFROM silver.rates\n")

    result = afluente(root, "validate")

    assert result.returncode == 2
    first, hint = result.stderr.splitlines()
    assert first.startswith(f"error: {gold}:2:8: `gold.priced` does not bind: ")
    assert hint.startswith("  hint: did you mean `rate`?")
    assert not (root / "warehouse").exists()
