"""Orders, their late status updates, order items and payments, one chunk at a time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from afluente.demo import vocab
from afluente.demo.catalog import Catalog
from afluente.demo.columns import (
    DAY,
    TS_GARBAGE,
    choose_codes,
    int_text,
    money_text,
    money_text_br,
    null_rows,
    strings,
    take,
    timestamp_text,
    with_variants,
)
from afluente.demo.people import exact_duplicates

ORDER_COLUMNS = ("order_id", "customer_id", "status", "channel", "purchased_at", "updated_at")
ITEM_COLUMNS = (
    "order_id",
    "item_seq",
    "product_id",
    "seller_id",
    "quantity",
    "unit_price",
    "freight_value",
)
PAYMENT_COLUMNS = ("order_id", "payment_seq", "method", "installments", "amount")

STATUSES = ("created", "approved", "invoiced", "shipped", "delivered", "canceled")
DELIVERED, CANCELED = 4, 5
STATUS_WEIGHTS = (5.0, 5.0, 5.0, 10.0, 70.0, 5.0)
PURCHASED_AT_FORMATS = (80.0, 8.0, 5.0, 3.0, 1.5, 0.8, 1.7)  # columns.TS_* codes
UPDATE_SHARE_OF_OPEN = 0.2  # of the orders not yet delivered/canceled
MISSING_CUSTOMER_RATE, NULL_CUSTOMER_RATE = 0.01, 0.003
DUPLICATE_RATE = 0.005


@dataclass(frozen=True)
class SalesChunk:
    orders: pa.Table
    updates: pa.Table
    items: pa.Table
    payments: pa.Table
    dirt: dict[str, int]


@dataclass(frozen=True)
class OrderSpace:
    """What every chunk needs to know about the whole landing zone."""

    total_orders: int
    n_customers: int
    catalog: Catalog
    n_sellers: int
    first_second: int
    last_second: int


def _status_text(rng: np.random.Generator, status: np.ndarray) -> pa.Array:
    names = strings(STATUSES)
    return with_variants(
        take(names, status),
        choose_codes(rng, status.size, (98, 1, 1)),
        {
            1: lambda r: pc.utf8_upper(take(names, status[r])),
            2: lambda r: pc.utf8_capitalize(take(names, status[r])),
        },
    )


def _customer_ids(rng: np.random.Generator, n: int, n_customers: int) -> tuple[pa.Array, int]:
    ids = rng.integers(1, n_customers + 1, n)
    missing = rng.random(n) < MISSING_CUSTOMER_RATE
    ids[missing] = n_customers + rng.integers(1, n_customers // 10 + 2, int(missing.sum()))
    codes = (rng.random(n) < NULL_CUSTOMER_RATE).astype(np.int8)
    return with_variants(int_text(ids), codes, {1: null_rows}), int(missing.sum())


def _updates(
    rng: np.random.Generator, orders: pa.Table, status: np.ndarray, updated: np.ndarray
) -> pa.Table:
    """Later re-sends of open orders: a newer `updated_at` and a further status."""
    rows = np.flatnonzero((status < DELIVERED) & (rng.random(status.size) < UPDATE_SHARE_OF_OPEN))
    new = np.where(rng.random(rows.size) < 0.15, CANCELED, status[rows] + 1)
    new_at = updated[rows] + rng.integers(DAY, 10 * DAY, rows.size)
    again = np.flatnonzero(new < DELIVERED)
    again = again[rng.random(again.size) < 0.3]
    rows = np.concatenate([rows, rows[again]])
    new = np.concatenate([new, new[again] + 1])
    new_at = np.concatenate([new_at, new_at[again] + rng.integers(DAY, 5 * DAY, again.size)])
    table = orders.take(rows)
    table = table.set_column(2, "status", _status_text(rng, new))
    table = table.set_column(5, "updated_at", timestamp_text(rng, new_at))
    return table.take(rng.permutation(table.num_rows))


def _orders(
    rng: np.random.Generator, ids: np.ndarray, space: OrderSpace
) -> tuple[pa.Table, pa.Table, dict[str, int]]:
    n = ids.size
    span = space.last_second - space.first_second
    purchased = space.first_second + (ids - 1) * span // max(space.total_orders, 1)
    purchased = purchased + rng.integers(0, 6 * 3600, n)
    updated = purchased + rng.integers(60, 2 * DAY, n)
    status = choose_codes(rng, n, STATUS_WEIGHTS).astype(np.int64)
    customer, missing = _customer_ids(rng, n, space.n_customers)
    date_codes = choose_codes(rng, n, PURCHASED_AT_FORMATS)
    channels = strings(vocab.ORDER_CHANNELS)
    orders = pa.table(
        {
            "order_id": int_text(ids),
            "customer_id": customer,
            "status": _status_text(rng, status),
            "channel": take(channels, rng.integers(0, len(channels), n)),
            "purchased_at": timestamp_text(rng, purchased, date_codes),
            "updated_at": timestamp_text(rng, updated),
        }
    )
    updates = _updates(rng, orders, status, updated)
    dups = exact_duplicates(rng, orders, DUPLICATE_RATE)
    dirt = {
        "orders.missing_customer": missing,
        "orders.unparseable_date": int(np.count_nonzero(date_codes >= TS_GARBAGE)),
        "orders.update_rows": updates.num_rows,
        "orders.exact_duplicates": dups.num_rows,
    }
    return pa.concat_tables([orders, dups]), updates, dirt


def _items(
    rng: np.random.Generator, ids: np.ndarray, space: OrderSpace
) -> tuple[pa.Table, np.ndarray, dict[str, int]]:
    """Items (1-4 per order) and the amount due per order, in cents."""
    cat = space.catalog
    count = choose_codes(rng, ids.size, (60, 25, 10, 5)).astype(np.int64) + 1
    order_pos = np.repeat(np.arange(ids.size), count)
    seq = np.arange(order_pos.size) - np.repeat(np.cumsum(count) - count, count) + 1
    product = rng.choice(cat.price_cents.size, size=order_pos.size, p=cat.popularity)
    quantity = choose_codes(rng, order_pos.size, (85, 10, 5)).astype(np.int64) + 1
    unit = cat.price_cents[product] * (100 - 5 * rng.integers(0, 3, product.size)) // 100
    free = rng.random(product.size) < 0.3
    freight = np.where(free, 0, rng.integers(990, 4_990, product.size))
    seller = (
        np.where(
            rng.random(product.size) < 0.9,
            cat.seller_idx[product],
            rng.integers(0, space.n_sellers, product.size),
        )
        + 1
    )
    product_id = product + 1
    ghost = rng.random(product.size) < 0.002
    product_id[ghost] = cat.price_cents.size + rng.integers(1, 100, int(ghost.sum()))
    price_codes = choose_codes(rng, product.size, (96, 2, 2))
    items = pa.table(
        {
            "order_id": int_text(ids[order_pos]),
            "item_seq": int_text(seq),
            "product_id": int_text(product_id),
            "seller_id": int_text(seller),
            "quantity": int_text(quantity),
            "unit_price": with_variants(
                money_text(unit),
                price_codes,
                {
                    1: lambda r: money_text_br(unit[r]),
                    2: lambda r: money_text_br(unit[r], grouped=False),
                },
            ),
            "freight_value": with_variants(
                money_text(freight), choose_codes(rng, product.size, (99, 1)), {1: null_rows}
            ),
        }
    )
    due = np.bincount(order_pos, weights=quantity * unit + freight, minlength=ids.size)
    dups = exact_duplicates(rng, items, DUPLICATE_RATE)
    dirt = {
        "order_items.exact_duplicates": dups.num_rows,
        "order_items.decimal_comma": int(np.count_nonzero(price_codes > 0)),
    }
    return pa.concat_tables([items, dups]), due.astype(np.int64), dirt


def _payments(
    rng: np.random.Generator, ids: np.ndarray, due: np.ndarray
) -> tuple[pa.Table, dict[str, int]]:
    """One payment per order, two for some (split between methods); amounts sum to `due`."""
    count = np.where(rng.random(ids.size) < 0.12, 2, 1)
    pos = np.repeat(np.arange(ids.size), count)
    seq = np.arange(pos.size) - np.repeat(np.cumsum(count) - count, count) + 1
    share = rng.integers(20, 81, ids.size)
    first = np.where(count == 2, due * share // 100, due)
    amount = np.where(seq == 1, first[pos], due[pos] - first[pos])
    method = choose_codes(rng, pos.size, (40, 15, 35, 10)).astype(np.int64)
    installments = np.where(
        method == 2,
        choose_codes(rng, pos.size, (40, 10, 15, 5, 5, 5, 5, 5, 2, 5, 1, 2)).astype(np.int64) + 1,
        1,
    )
    names = strings(vocab.PAYMENT_METHODS)
    amount_codes = choose_codes(rng, pos.size, (93, 5, 2))
    table = pa.table(
        {
            "order_id": int_text(ids[pos]),
            "payment_seq": int_text(seq),
            "method": with_variants(
                take(names, method),
                choose_codes(rng, pos.size, (97, 2, 1)),
                {
                    1: lambda r: pc.utf8_upper(take(names, method[r])),
                    2: lambda r: pc.utf8_capitalize(take(names, method[r])),
                },
            ),
            "installments": int_text(installments),
            "amount": with_variants(
                money_text_br(amount),
                amount_codes,
                {
                    1: lambda r: money_text(amount[r]),
                    2: lambda r: money_text_br(amount[r], grouped=False),
                },
            ),
        }
    )
    dups = exact_duplicates(rng, table, DUPLICATE_RATE)
    dirt = {
        "payments.exact_duplicates": dups.num_rows,
        "payments.decimal_point": int(np.count_nonzero(amount_codes == 1)),
    }
    return pa.concat_tables([table, dups]), dirt


def sales_chunk(rng: np.random.Generator, first_id: int, n: int, space: OrderSpace) -> SalesChunk:
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    orders, updates, dirt = _orders(rng, ids, space)
    items, due, item_dirt = _items(rng, ids, space)
    payments, pay_dirt = _payments(rng, ids, due)
    return SalesChunk(
        orders=orders.take(rng.permutation(orders.num_rows)),
        updates=updates,
        items=items.take(rng.permutation(items.num_rows)),
        payments=payments.take(rng.permutation(payments.num_rows)),
        dirt={**dirt, **item_dirt, **pay_dirt},
    )
