/* @config
kind: full
description: >
  One row per order (silver.orders) with keys to the customer and date dimensions, item and
  payment totals. Orders of missing customers point to the unknown customer (md5('-1')),
  orders without a parseable purchase date to date_key -1.
columns:
  customer_key: {description: gold.dim_customer key (unknown member when the customer is missing)}
  date_key: {description: "gold.dim_date key, yyyymmdd of the purchase date; -1 when unknown"}
  items: {description: Number of items}
  units: {description: Sum of item quantities}
  gross_amount: {description: "Sum of quantity * unit_price over the items (BRL)"}
  freight_amount: {description: Sum of item freight (BRL)}
  paid_amount: {description: Sum of payments (BRL)}
*/
WITH items AS (
    SELECT
        order_id,
        count(*) AS items,
        sum(quantity) AS units,
        sum(revenue) AS gross_amount,
        sum(freight_value) AS freight_amount
    FROM silver.order_items
    GROUP BY order_id
),
payments AS (
    SELECT order_id, sum(amount) AS paid_amount, count(*) AS payments
    FROM silver.payments
    GROUP BY order_id
)
SELECT
    o.order_id,
    coalesce(c.customer_key, md5('-1')) AS customer_key,
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
FROM silver.orders AS o
LEFT JOIN gold.dim_customer AS c ON c.customer_id = o.customer_id
LEFT JOIN items AS i ON i.order_id = o.order_id
LEFT JOIN payments AS p ON p.order_id = o.order_id
