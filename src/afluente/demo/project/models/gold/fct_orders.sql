/* @config
kind: full
description: >
  One row per order (silver.orders) with keys to the customer version valid at the purchase
  and to the date, item and payment totals. The customer lookup is SCD2-aware: the version
  of gold.dim_customer with valid_from <= purchased_at < valid_to (the join
  `afluente.transform.scd2_lookup_join` generates with sequence_type TIMESTAMPTZ: an open
  valid_to counts as the end of time, no OR, so DuckDB hash-joins); an order older than the
  customer's first version takes that first version (coalesce prefers the valid version), an order without a parseable purchase time the current
  one, an order of a missing customer the unknown member (-1). Orders without a parseable
  purchase date get date_key -1.
expectations:
  - {name: one_row_per_order, unique: order_id, action: fail}
  - {name: has_orders, row_count: {min: 1}, action: fail}
  - name: payments_match_items
    expression: abs(paid_amount - gross_amount - freight_amount) <= 0.01
    action: warn
columns:
  customer_key: {description: "gold.dim_customer version key (-1: unknown customer)"}
  date_key: {description: "gold.dim_date key, yyyymmdd of the purchase date; -1 when unknown"}
  items: {description: Number of items}
  units: {description: Sum of item quantities}
  gross_amount: {description: "Sum of quantity * unit_price over the items (BRL)"}
  freight_amount: {description: Sum of item freight (BRL)}
  paid_amount: {description: Sum of payments (BRL)}
*/
WITH orders AS (
    SELECT *, coalesce(purchased_at, TIMESTAMPTZ '9999-12-31 00:00:00+00') AS customer_at
    FROM silver.orders
),
first_version AS (
    SELECT customer_id, customer_key
    FROM gold.dim_customer
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY valid_from) = 1
),
items AS (
    SELECT
        order_id,
        count(*) AS items,
        -- sums cast to one type: DuckDB and Spark widen a sum differently (docs/engines.md)
        CAST(sum(quantity) AS BIGINT) AS units,
        CAST(sum(revenue) AS DECIMAL(38, 2)) AS gross_amount,
        CAST(sum(freight_value) AS DECIMAL(38, 2)) AS freight_amount
    FROM silver.order_items
    GROUP BY order_id
),
payments AS (
    SELECT order_id, CAST(sum(amount) AS DECIMAL(38, 2)) AS paid_amount, count(*) AS payments
    FROM silver.payments
    GROUP BY order_id
)
SELECT
    o.order_id,
    coalesce(c.customer_key, f.customer_key, -1) AS customer_key,
    coalesce(year(o.order_date) * 10000 + month(o.order_date) * 100 + day(o.order_date), -1)
        AS date_key,
    o.status,
    o.channel,
    o.purchased_at,
    o.updated_at,
    coalesce(i.items, 0) AS items,
    coalesce(i.units, 0) AS units,
    coalesce(i.gross_amount, 0) AS gross_amount,
    coalesce(i.freight_amount, 0) AS freight_amount,
    coalesce(p.paid_amount, 0) AS paid_amount,
    coalesce(p.payments, 0) AS payments
FROM orders AS o
LEFT JOIN gold.dim_customer AS c
    ON o.customer_id = c.customer_id
    AND o.customer_at >= c.valid_from
    AND o.customer_at < coalesce(c.valid_to, TIMESTAMPTZ '9999-12-31 23:59:59+00')
LEFT JOIN first_version AS f ON f.customer_id = o.customer_id
LEFT JOIN items AS i ON i.order_id = o.order_id
LEFT JOIN payments AS p ON p.order_id = o.order_id
