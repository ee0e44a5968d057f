"""A small project touching every mapping of `afluente spark export`."""

from __future__ import annotations

from pathlib import Path

AFLUENTE_YML = """\
name: shop_sdp
vars: {min_amount: 10}
sources:
  orders:
    type: files
    path: landing/orders/*.csv
    format: csv
    options: {delimiter: ";", header: true}
  customer_changes:
    type: files
    path: landing/changes/*.csv
  sellers:
    type: files
    path: landing/sellers/*.tsv
    format: tsv
    mode: snapshot
"""

ORDERS_SQL = """/* @config
kind: full
description: Orders, typed; one row per order_id.
expectations:
  - {name: one_row_per_order, unique: order_id, action: fail}
  - {name: amount_parsed, not_null: amount, action: quarantine}
*/
SELECT
    TRY_CAST(trim(order_id) AS BIGINT) AS order_id,
    TRY_CAST(trim(customer_id) AS BIGINT) AS customer_id,
    TRY_CAST(amount AS DECIMAL(18, 2)) AS amount,
    lower(trim(status)) AS status
FROM bronze.orders
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY _row_hash) = 1
"""

PAID_SQL = """/* @config
kind: view
*/
SELECT order_id, amount FROM silver.orders WHERE status = 'paid'
"""

BIG_SQL = """/* @config
kind: full
*/
SELECT p.order_id, p.amount FROM silver.paid AS p WHERE p.amount >= getvariable('min_amount')
"""

LOG_SQL = """/* @config
kind: append
description: Every order line as it landed, with the customer's typed order count.
*/
SELECT o.order_id, o.status, s.customer_id, o._ingested_at
FROM bronze.orders AS o
LEFT JOIN silver.orders AS s ON s.order_id = TRY_CAST(o.order_id AS BIGINT)
"""

HISTORY_SQL = """/* @config
kind: apply_changes
keys: [customer_id]
sequence_by: changed_at
apply_as_deletes: "op = 'D'"
except_columns: [op]
scd_type: 2
track_history_columns: [city]
*/
SELECT
    TRY_CAST(customer_id AS BIGINT) AS customer_id,
    upper(op) AS op,
    TRY_CAST(changed_at AS TIMESTAMP) AS changed_at,
    city
FROM bronze.order_events
"""

STATUS_PY = '''import afluente


@afluente.table(inputs={"orders": "silver.orders"}, description="Orders per status.")
def status_counts(orders):
    return orders.groupBy("status").count()
'''

STREAM_PY = '''import afluente


@afluente.table(inputs=["bronze.orders"], kind="append")
def order_stream(orders):
    return orders.select("order_id", "status")
'''

PAID_PY = '''import afluente


@afluente.table(inputs=["silver.paid"])
def paid_positive(paid):
    return paid.filter("amount > 0")
'''


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def make_project(root: Path) -> Path:
    """bronze.orders, bronze.customer_changes (file streams), bronze.sellers (snapshot files);
    silver.orders (full),
    silver.paid (view) → gold.big_orders; silver.order_log (append); gold.status_counts
    and silver.order_stream (append), gold.paid_positive (over the view) in Python;
    gold.customer_history (apply_changes over bronze.order_events, an append)."""
    write(root / "afluente.yml", AFLUENTE_YML)
    write(root / "landing" / "orders" / "a.csv",
          "order_id;customer_id;amount;status\n1;7;12.50;paid\n2;8;3.00;new\n1;7;12.50;paid\n")
    write(root / "landing" / "changes" / "a.csv",
          "customer_id,op,changed_at,city\n7,U,2026-01-01 10:00:00,Recife\n")
    write(root / "landing" / "sellers" / "a.tsv", "seller_id\tname\n1\tLoja\n")
    models = root / "models"
    write(models / "silver" / "orders.sql", ORDERS_SQL)
    write(models / "silver" / "paid.sql", PAID_SQL)
    write(models / "silver" / "order_log.sql", LOG_SQL)
    write(models / "gold" / "big_orders.sql", BIG_SQL)
    write(models / "gold" / "status_counts.py", STATUS_PY)
    write(models / "silver" / "order_stream.py", STREAM_PY)
    write(models / "gold" / "paid_positive.py", PAID_PY)
    write(models / "bronze" / "order_events.sql", "/* @config\nkind: append\n*/\n"
          "SELECT customer_id, op, changed_at, city FROM bronze.customer_changes\n")
    write(models / "gold" / "customer_history.sql", HISTORY_SQL)
    return root
