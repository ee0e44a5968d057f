"""Compare what two engines wrote: an order-independent hash of a Delta table's columns and
values as delta-rs reads them, and the demo project laid out for a given engine, with a
second batch of landing files for its incremental run."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable

from afluente.demo.build import prepare_demo

# columns whose values are the moment of a run, not the data: they differ between any two
# runs, whatever the engine
RUN_COLUMNS = frozenset({"landed_at", "_run_id", "_quarantined_at"})
# and in bronze, the moment of ingestion
RUN_TIME_COLUMNS = RUN_COLUMNS | {"_ingested_at"}
DEMO_ORDERS = 200
DEMO_SEED = 7


def table_path(root: Path, layer: str, name: str) -> str:
    return str(root / "warehouse" / layer / name)


def content_hash(root: Path, layer: str, name: str, version: int | None = None,
                 exclude: Iterable[str] = ()) -> str:
    """Order-independent hash of a table's column names and values as delta-rs reads them
    (numbers compared by value, whatever their decimal precision)."""
    table = DeltaTable(table_path(root, layer, name), version=version).to_pyarrow_table()
    return table_hash(table.drop_columns([c for c in table.column_names if c in set(exclude)]))


def table_hash(table: pa.Table) -> str:
    """Order-independent hash of an Arrow table's column names and values."""
    rows = sorted(repr(tuple(_value(v) for v in row.values())) for row in table.to_pylist())
    return hashlib.sha256(repr((table.column_names, rows)).encode()).hexdigest()


def _value(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, Decimal)):
        return str(Decimal(value).normalize())
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def demo_project(root: Path, engine: str) -> Path:
    """The demo (`afluente demo`'s project, DEMO_ORDERS orders) with `engine:` replaced."""
    prepare_demo(root, orders=DEMO_ORDERS, seed=DEMO_SEED)
    config = root / "afluente.yml"
    config.write_text(config.read_text().replace("engine: duckdb", engine))
    return root


def land_second_batch(root: Path) -> None:
    """New landing files for the incremental run: a re-sent order with a new status (merged
    by order_id), a new order, and a customer's move (a new SCD2 version)."""
    _write_csv(root / "landing/orders/orders_9999.csv", [
        {"order_id": "10", "customer_id": "34", "status": "canceled", "channel": "app",
         "purchased_at": "2024-01-05 10:00:00", "updated_at": "2030-01-01 00:00:00"},
        {"order_id": "999999", "customer_id": "2", "status": "created", "channel": "site",
         "purchased_at": "2031-03-04 09:15:00", "updated_at": "2031-03-04 09:15:00"},
    ])
    _write_csv(root / "landing/customer_updates/customer_updates_9999_1.csv", [
        {"customer_id": "2", "name": "Cliente Dois", "cpf": "52998224725",
         "email": "novo@example.com",
         "phone": "(92) 99999-0000", "city": "Manaus", "uf": "AM",
         "updated_at": "2030-06-01 12:00:00", "op": "U"},
    ])


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)


def demo_tables(root: Path, layers: Iterable[str] = ("silver", "gold")) -> list[tuple[str, str]]:
    """Every table of `layers` the run wrote (quarantine tables included)."""
    return sorted((layer, path.name) for layer in layers
                  for path in (root / "warehouse" / layer).iterdir()
                  if (path / "_delta_log").is_dir())


def table_hashes(root: Path, layers: Iterable[str] = ("silver", "gold")
                 ) -> dict[tuple[str, str], str]:
    """`content_hash` of each table of `layers`, without the run-time columns."""
    return {table: content_hash(root, *table, exclude=RUN_TIME_COLUMNS)
            for table in demo_tables(root, layers)}


def differing_from(expected: dict[tuple[str, str], str], root: Path) -> list[str]:
    """The silver and gold tables of `root` whose content differs from `expected`
    (`table_hashes` of another build, taken after the same run), or that only one has."""
    kept = {table: digest for table, digest in expected.items() if table[0] != "bronze"}
    found = table_hashes(root)
    if sorted(found) != sorted(kept):
        return [f"tables: {sorted(kept)} != {sorted(found)}"]
    return [f"{layer}.{name}" for (layer, name), digest in found.items()
            if digest != kept[(layer, name)]]


def differing(first: Path, second: Path) -> list[str]:
    """The tables whose content differs between two builds of the demo (and any table
    only one of them wrote)."""
    tables = demo_tables(first)
    if tables != demo_tables(second):
        return [f"tables: {tables} != {demo_tables(second)}"]
    return [f"{layer}.{name}" for layer, name in tables
            if content_hash(first, layer, name, exclude=RUN_COLUMNS)
            != content_hash(second, layer, name, exclude=RUN_COLUMNS)]


def merged(root: Path, layer: str, name: str) -> bool:
    """Whether a version of the table was a MERGE (an incremental upsert, not a rewrite)."""
    return any(entry["operation"] == "MERGE"
               for entry in DeltaTable(table_path(root, layer, name)).history())
