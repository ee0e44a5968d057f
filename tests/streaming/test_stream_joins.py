"""Stream-to-table joins: a streaming model enriches each micro-batch with a dimension read
at its current version (`dimensions:`), or with the SCD2 version valid at the row's event
time. Files landed between micro-batches (no broker needed: the join does not depend on
where bronze's rows came from)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from afluente.errors import AfluenteError
from afluente.model import TableRef

from .helpers import ok, run, table, version

CURRENT, AS_OF = TableRef("silver", "enriched_current"), TableRef("silver", "enriched_as_of")
PLAIN = TableRef("silver", "enriched_plain")  # the same join without `dimensions:`
MODELS = {
    # the dimension at its current value: the latest change of each customer
    "silver/customers.sql": """/* @config
kind: merge
unique_key: customer_id
dedupe_by: changed_at
*/
SELECT CAST(customer_id AS INTEGER) AS customer_id, tier,
       CAST(changed_at AS TIMESTAMP) AS changed_at
FROM bronze.customer_changes""",
    # the same changes as an SCD2 history: valid_from/valid_to are change times
    "silver/customer_history.sql": """/* @config
kind: apply_changes
keys: customer_id
sequence_by: changed_at
scd_type: 2
*/
SELECT CAST(customer_id AS INTEGER) AS customer_id, tier,
       CAST(changed_at AS TIMESTAMP) AS changed_at
FROM bronze.customer_changes""",
    "silver/enriched_current.sql": """/* @config
kind: append
dimensions: silver.customers
*/
SELECT e.event_id, CAST(e.ts AS TIMESTAMP) AS ts, c.tier
FROM bronze.events e LEFT JOIN silver.customers c
  ON c.customer_id = CAST(e.customer_id AS INTEGER)""",
    "silver/enriched_as_of.sql": """/* @config
kind: append
dimensions: {silver.customer_history: customer_id}   # only the micro-batch's customers
*/
SELECT e.event_id, CAST(e.ts AS TIMESTAMP) AS ts, h.tier
FROM bronze.events e LEFT JOIN silver.customer_history h
  ON h.customer_id = CAST(e.customer_id AS INTEGER)
 AND h.valid_from <= CAST(e.ts AS TIMESTAMP) AND [CAST(e.ts AS TIMESTAMP)] < [h.valid_to]""",
    # what a keyed dimension shows the query: the rows of the micro-batch's keys only
    "silver/dimension_seen.sql": """/* @config
kind: append
dimensions: {silver.customers: customer_id}
*/
SELECT e.event_id, (SELECT count(*) FROM silver.customers) AS customers_seen
FROM bronze.events e""",
    "silver/enriched_plain.sql": """/* @config
kind: append
*/
SELECT e.event_id, c.tier
FROM bronze.events e LEFT JOIN silver.customers c
  ON c.customer_id = CAST(e.customer_id AS INTEGER)""",
}


def _project(root: Path, models: dict[str, str]) -> Path:
    for folder in ("events", "customers"):
        (root / "landing" / folder).mkdir(parents=True)
    for path, sql in models.items():
        (root / "models" / path).parent.mkdir(parents=True, exist_ok=True)
        (root / "models" / path).write_text(sql + "\n", encoding="utf-8")
    (root / "afluente.yml").write_text(
        "name: joins\nsources:\n"
        "  events:\n    type: files\n    path: landing/events/*.csv\n    stream: true\n"
        "  customer_changes:\n    type: files\n    path: landing/customers/*.csv\n"
        "    stream: true\n", encoding="utf-8")
    return root


def _land(root: Path, folder: str, name: str, header: str, rows: list[str]) -> None:
    aside = root / f".{name}.tmp"
    aside.write_text(header + "\n" + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    aside.rename(root / "landing" / folder / name)


def _changes(root: Path, name: str, rows: list[str]) -> None:
    _land(root, "customers", name, "customer_id,tier,changed_at", rows)


def _events(root: Path, name: str, rows: list[str]) -> None:
    _land(root, "events", name, "event_id,customer_id,ts", rows)


def _tiers(root: Path, ref: TableRef) -> dict[str, str | None]:
    return {r["event_id"]: r["tier"] for r in table(root, ref).to_pylist()}


@pytest.fixture(scope="module")
def joined(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two micro-batches with a dimension change between them, then one that changes only
    the dimension."""
    root = _project(tmp_path_factory.mktemp("joins") / "p", MODELS)
    _changes(root, "c1.csv", ["1,bronze,2026-01-05 10:00:00", "2,silver,2026-01-05 10:00:00"])
    _events(root, "e1.csv", ["e1,1,2026-01-05 10:05:00", "e2,2,2026-01-05 10:06:00"])
    ok(run(root))
    _changes(root, "c2.csv", ["1,gold,2026-01-05 10:30:00"])
    _events(root, "e2.csv", ["e3,1,2026-01-05 10:40:00",
                             "e4,1,2026-01-05 10:10:00"])  # arrives late: 10:10 < 10:30
    ok(run(root))
    return root


def test_the_current_dimension_enriches_each_micro_batch_and_earlier_rows_stay(
        joined: Path) -> None:
    # e1 was enriched when customer 1 was bronze and is not revised; e3 and e4 came after
    # the change and see gold (the dimension as it is when their micro-batch runs)
    assert _tiers(joined, CURRENT) == {"e1": "bronze", "e2": "silver", "e3": "gold",
                                       "e4": "gold"}


def test_the_as_of_join_picks_the_version_valid_at_event_time(joined: Path) -> None:
    # e4 (10:10) arrived after the change to gold (10:30) but happened before it
    assert _tiers(joined, AS_OF) == {"e1": "bronze", "e2": "silver", "e3": "gold",
                                     "e4": "bronze"}
    assert {r["event_id"]: r["ts"] for r in table(joined, AS_OF).to_pylist()}["e4"] == (
        datetime(2026, 1, 5, 10, 10))


def test_a_keyed_dimension_shows_only_the_keys_of_the_micro_batch(joined: Path) -> None:
    seen = {r["event_id"]: r["customers_seen"]
            for r in table(joined, TableRef("silver", "dimension_seen")).to_pylist()}
    # the first micro-batch was a full build (every row); the second had customer 1 only
    assert seen == {"e1": 2, "e2": 2, "e3": 1, "e4": 1}


def test_a_dimension_key_that_is_not_a_column_names_it_and_the_table_is_kept(
        tmp_path: Path) -> None:
    keyed = MODELS["silver/enriched_current.sql"].replace(
        "dimensions: silver.customers", "dimensions: {silver.customers: customer}")
    root = _project(tmp_path / "p", {"silver/customers.sql": MODELS["silver/customers.sql"],
                                     "silver/enriched_current.sql": keyed})
    _changes(root, "c1.csv", ["1,bronze,2026-01-05 10:00:00"])
    _events(root, "e1.csv", ["e1,1,2026-01-05 10:05:00"])
    ok(run(root))  # a first build reads every row: no key needed
    before = version(root, CURRENT)
    _events(root, "e2.csv", ["e2,1,2026-01-05 10:06:00"])
    failed = next(m for m in run(root).failed if m.ref == CURRENT)
    assert ("`dimensions`: the join key `customer` of `silver.customers` is not a column of "
            "`bronze.events` (columns: event_id, customer_id, ts") in str(failed.reason)
    assert version(root, CURRENT) == before


def test_a_dimension_change_alone_builds_nothing_but_an_undeclared_join_rebuilds(
        tmp_path: Path) -> None:
    root = _project(tmp_path / "p", {k: v for k, v in MODELS.items()
                                     if "history" not in k and "as_of" not in k})
    _changes(root, "c1.csv", ["1,bronze,2026-01-05 10:00:00"])
    _events(root, "e1.csv", ["e1,1,2026-01-05 10:05:00"])
    ok(run(root))
    before = version(root, CURRENT)
    _changes(root, "c2.csv", ["1,gold,2026-01-05 10:30:00"])
    result = ok(run(root))
    reasons = {m.ref: (m.status, m.reason) for m in result.models}
    assert version(root, CURRENT) == before  # no new event: nothing to enrich
    assert reasons[CURRENT] == ("up_to_date", "up to date (v0)")
    # without `dimensions:`, the merge that rewrote silver.customers counts as changed rows
    # and the append table is rebuilt from every event: e1 re-enriched (a batch table)
    assert reasons[PLAIN][1].startswith("full: `silver.customers` was rewritten"), reasons
    assert _tiers(root, PLAIN) == {"e1": "gold"}
    assert _tiers(root, CURRENT) == {"e1": "bronze"}


def test_a_dimension_the_model_does_not_read_is_an_error(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", {"silver/customers.sql": MODELS["silver/customers.sql"],
                                     "silver/enriched_current.sql": MODELS[
                                         "silver/enriched_current.sql"].replace(
                                         "dimensions: silver.customers",
                                         "dimensions: silver.customer")})
    with pytest.raises(AfluenteError, match=(
            r"models/silver/enriched_current.sql.*`dimensions` names `silver.customer`, which "
            r"`silver.enriched_current` does not read \(it reads: bronze.events, "
            r"silver.customers\)")):
        run(root)
