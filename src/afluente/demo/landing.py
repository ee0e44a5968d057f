"""A deterministic, dirty, Brazilian e-commerce landing zone of CSV files.

`generate_landing(out_dir, orders=...)` writes `out_dir/<entity>/*.csv` for customers (and
their change feed, `customer_updates`: moves, new e-mails, deletions, some arriving late),
categories, products, sellers, orders (plus late `orders_updates_*.csv` re-sends), order items
and payments. The data carries the dirt of real exports at a few percent: duplicates, near
duplicates, nulls, mixed date formats, decimal commas, unconformed city/UF/category spellings,
invalid CPFs, orders of unknown customers. Same seed, same bytes.

Big zones are generated chunk by chunk (one file per chunk) with numpy and Arrow kernels, so
memory stays flat and ten million orders take minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from afluente.demo.catalog import CATEGORY_COLUMNS, PRODUCT_COLUMNS, catalog, categories_table
from afluente.demo.columns import epoch_seconds
from afluente.demo.customer_changes import CHANGE_COLUMNS, customer_changes
from afluente.demo.people import CUSTOMER_COLUMNS, SELLER_COLUMNS, customers_chunk, sellers_table
from afluente.demo.sales import (
    ITEM_COLUMNS,
    ORDER_COLUMNS,
    PAYMENT_COLUMNS,
    OrderSpace,
    sales_chunk,
)

Progress = Callable[[str, int, int], None]

ORDERS_PER_CHUNK = 1_000_000
CUSTOMERS_PER_CHUNK = 1_000_000
FIRST_ORDER_DAY, LAST_ORDER_DAY = (2023, 1, 1), (2025, 1, 1)

ENTITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": CUSTOMER_COLUMNS,
    "customer_updates": CHANGE_COLUMNS,
    "categories": CATEGORY_COLUMNS,
    "products": PRODUCT_COLUMNS,
    "sellers": SELLER_COLUMNS,
    "orders": ORDER_COLUMNS,
    "order_items": ITEM_COLUMNS,
    "payments": PAYMENT_COLUMNS,
}
# Payments come from the payment provider's "Brazilian Excel" export: `;` and `1.234,56`.
ENTITY_DELIMITERS: dict[str, str] = {"payments": ";"}

_CUSTOMERS, _SELLERS, _CATALOG, _SALES, _CHANGES = range(1, 6)  # random stream per entity


@dataclass(frozen=True)
class EntityFiles:
    """The files of one landing entity and how to read them."""

    name: str
    files: tuple[Path, ...]
    rows: int
    delimiter: str
    columns: tuple[str, ...]

    @property
    def glob(self) -> str:
        """Path pattern relative to the landing folder, e.g. `payments/*.csv`."""
        return f"{self.name}/*.csv"


@dataclass(frozen=True)
class LandingSummary:
    """What `generate_landing` wrote: per-entity files, row counts, delimiters, dirt counts."""

    out_dir: Path
    orders: int
    seed: int
    entities: Mapping[str, EntityFiles]
    dirt: Mapping[str, int] = field(default_factory=dict)

    def __getitem__(self, entity: str) -> EntityFiles:
        return self.entities[entity]

    @property
    def total_rows(self) -> int:
        return sum(e.rows for e in self.entities.values())

    @property
    def total_bytes(self) -> int:
        return sum(f.stat().st_size for e in self.entities.values() for f in e.files)


@dataclass(frozen=True)
class Sizes:
    orders: int
    customers: int
    products: int
    sellers: int

    @classmethod
    def for_orders(cls, orders: int) -> Sizes:
        return cls(
            orders=orders,
            customers=max(orders // 5, 10),
            products=int(np.clip(orders // 10, 100, 5_000)),
            sellers=int(np.clip(orders // 500, 20, 3_000)),
        )


class _Writer:
    """Writes CSV files and tallies them per entity."""

    def __init__(self, out_dir: Path, progress: Progress | None) -> None:
        self.out_dir = out_dir
        self.progress = progress
        self.files: dict[str, list[Path]] = {name: [] for name in ENTITY_COLUMNS}
        self.rows: dict[str, int] = dict.fromkeys(ENTITY_COLUMNS, 0)

    def clear(self) -> None:
        for name in ENTITY_COLUMNS:
            folder = self.out_dir / name
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("*.csv"):
                old.unlink()

    def write(self, entity: str, file_name: str, table: pa.Table) -> None:
        path = self.out_dir / entity / file_name
        options = pcsv.WriteOptions(
            include_header=True,
            delimiter=ENTITY_DELIMITERS.get(entity, ","),
            quoting_style="needed",
            batch_size=64 * 1024,
        )
        pcsv.write_csv(table, path, options)
        self.files[entity].append(path)
        self.rows[entity] += table.num_rows

    def report(self, entity: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(entity, done, total)

    def summary(self, sizes: Sizes, seed: int, dirt: Mapping[str, int]) -> LandingSummary:
        entities = {
            name: EntityFiles(
                name=name,
                files=tuple(sorted(self.files[name])),
                rows=self.rows[name],
                delimiter=ENTITY_DELIMITERS.get(name, ","),
                columns=ENTITY_COLUMNS[name],
            )
            for name in ENTITY_COLUMNS
        }
        return LandingSummary(self.out_dir, sizes.orders, seed, entities, dict(dirt))


def _rng(seed: int, stream: int, chunk: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, stream, chunk])


def _chunks(total: int, size: int) -> Iterator[tuple[int, int, int]]:
    """(chunk number from 1, first id, count) covering ids 1..total."""
    for number, start in enumerate(range(0, total, size), start=1):
        yield number, start + 1, min(size, total - start)


def _add(dirt: dict[str, int], more: Mapping[str, int]) -> None:
    for key, value in more.items():
        dirt[key] = dirt.get(key, 0) + value


def _write_customers(w: _Writer, sizes: Sizes, seed: int, dirt: dict[str, int]) -> None:
    for number, first, count in _chunks(sizes.customers, CUSTOMERS_PER_CHUNK):
        chunk = customers_chunk(_rng(seed, _CUSTOMERS, number), first, count, seed)
        w.write("customers", f"customers_{number:04d}.csv", chunk.table)
        _add(dirt, chunk.dirt)
        files, changes = customer_changes(_rng(seed, _CHANGES, number), chunk.base, chunk.created)
        for part, events in enumerate(files, start=1):
            w.write("customer_updates", f"customer_updates_{number:04d}_{part}.csv", events)
        _add(dirt, changes)
        w.report("customers", first + count - 1, sizes.customers)


def _write_sales(w: _Writer, space: OrderSpace, seed: int, dirt: dict[str, int]) -> None:
    for number, first, count in _chunks(space.total_orders, ORDERS_PER_CHUNK):
        chunk = sales_chunk(_rng(seed, _SALES, number), first, count, space)
        w.write("orders", f"orders_{number:04d}.csv", chunk.orders)
        w.write("orders", f"orders_updates_{number:04d}.csv", chunk.updates)
        w.write("order_items", f"order_items_{number:04d}.csv", chunk.items)
        w.write("payments", f"payments_{number:04d}.csv", chunk.payments)
        _add(dirt, chunk.dirt)
        w.report("orders", first + count - 1, space.total_orders)


def generate_landing(
    out_dir: Path, orders: int, seed: int = 42, progress: Progress | None = None
) -> LandingSummary:
    """Write the landing zone for `orders` orders under `out_dir` (old CSVs there replaced)."""
    if orders < 1:
        raise ValueError(f"orders must be at least 1, got {orders}")
    sizes = Sizes.for_orders(orders)
    writer = _Writer(Path(out_dir), progress)
    writer.clear()
    dirt: dict[str, int] = {}
    writer.write("categories", "categories.csv", categories_table())
    writer.write("sellers", "sellers.csv", sellers_table(_rng(seed, _SELLERS), sizes.sellers))
    shop = catalog(_rng(seed, _CATALOG), sizes.products, sizes.sellers)
    writer.write("products", "products.csv", shop.products)
    writer.report("catalog", 1, 1)
    _write_customers(writer, sizes, seed, dirt)
    space = OrderSpace(
        total_orders=orders,
        n_customers=sizes.customers,
        catalog=shop,
        n_sellers=sizes.sellers,
        first_second=epoch_seconds(*FIRST_ORDER_DAY),
        last_second=epoch_seconds(*LAST_ORDER_DAY) - 6 * 3600,
    )
    _write_sales(writer, space, seed, dirt)
    return writer.summary(sizes, seed, dirt)
