"""`afluente run` says per table what quality did and how many rows its readers see."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from tests.quality.test_cli_reports import afluente

from afluente.config import load_project
from afluente.model import TableRef
from afluente.storage import Warehouse

RULES = (
    "  - {name: cpf_ok, format: {column: cpf, as: cpf}, action: quarantine}\n"
    "  - {name: adult, between: {column: age, min: 18, max: 120}, action: drop}\n"
    "  - {name: email_ok, format: {column: email, as: email}, action: warn}"
)
CHANGES = """/* @config
kind: apply_changes
keys: id
sequence_by: seq
apply_as_deletes: "op = 'D'"
except_columns: [op]
expectations:
  - {name: has_value, not_null: v, action: warn}
*/
SELECT * FROM (VALUES (1, 'a', 1, 'U'), (1, 'b', 2, 'U'), (2, 'c', 1, 'U'), (2, NULL, 2, 'D'))
    AS t(id, v, seq, op)
"""


def test_run_line_shows_visible_rows_and_what_quality_did(
    make_project: Callable[..., Path],
) -> None:
    root = make_project(RULES)
    first = afluente(root, "run")
    assert first.returncode == 0, first.stderr
    # 5 rows: 2 with a bad CPF (one also a minor), 1 more out of the age range
    assert re.search(r"✓ silver\.people +2 rows · 2 quarantined · 1 dropped · 1 warning +v0 ",
                     first.stdout), first.stdout
    again = afluente(root, "run")
    assert re.search(r"= silver\.people +2 rows +up to date", again.stdout), again.stdout
    assert " 0 rows" not in again.stdout


def test_json_run_reports_the_rows_readers_see(make_project: Callable[..., Path]) -> None:
    root = make_project(RULES, silver__changes=CHANGES)
    done = afluente(root, "--json", "run")
    assert done.returncode == 0, done.stderr
    models = {m["table"]: m for m in json.loads(done.stdout)["models"]}
    assert models["silver.people"]["table_rows"] == 2
    assert models["silver.people"]["quality"] == {
        "rows": 5, "quarantined": 2, "dropped": 1, "duplicates": 0, "warnings": 1}
    changes = models["silver.changes"]
    stored = Warehouse(load_project(root).warehouse_uri).dataset(TableRef("silver", "changes"))
    assert changes["table_rows"] == 1  # customer 1's latest row; 2 is deleted
    assert stored.count_rows() > 1  # the bookkeeping rows the readers never see
    assert changes["quality"]["warnings"] == 1
    again = {m["table"]: m for m in json.loads(afluente(root, "--json", "run").stdout)["models"]}
    assert again["silver.changes"]["status"] == "up_to_date"
    assert again["silver.changes"]["table_rows"] == 1
