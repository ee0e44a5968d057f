/* @config
kind: full
description: >
  The repeat-purchase model's features as of now (the newest purchase time): one row per
  customer who ever ordered, with the columns of gold.repeat_training but the label.
*/
WITH orders AS (
    SELECT d.customer_id, f.purchased_at, f.items,
           CAST(f.gross_amount AS DOUBLE) AS gross
    FROM gold.fct_orders AS f
    JOIN gold.dim_customer AS d ON d.customer_key = f.customer_key
    WHERE f.purchased_at IS NOT NULL AND f.status <> 'canceled'
),
now AS (
    SELECT max(purchased_at) AS at FROM orders
)
SELECT
    o.customer_id,
    count(*) AS orders,
    sum(o.gross) AS revenue,
    avg(o.items) AS items_per_order,
    date_diff('day', max(o.purchased_at), n.at) AS days_since_last
FROM orders AS o, now AS n
GROUP BY o.customer_id, n.at
