/* @config
kind: full
description: >
  The training set of the repeat-purchase model: one row per customer who ordered before
  the cutoff (the 70th percentile of purchase times), with what was known at the cutoff
  (orders, revenue, items per order, days since the last order) and the label `repeat`:
  whether the customer ordered again after it. Only orders before the cutoff feed the
  features, so the label never leaks into them.
*/
WITH orders AS (
    SELECT d.customer_id, f.purchased_at, f.items,
           CAST(f.gross_amount AS DOUBLE) AS gross
    FROM gold.fct_orders AS f
    JOIN gold.dim_customer AS d ON d.customer_key = f.customer_key
    WHERE f.purchased_at IS NOT NULL AND f.status <> 'canceled'
),
cutoff AS (
    SELECT quantile_disc(purchased_at, 0.7) AS at FROM orders
)
SELECT
    o.customer_id,
    count(*) FILTER (WHERE o.purchased_at < c.at) AS orders,
    coalesce(sum(o.gross) FILTER (WHERE o.purchased_at < c.at), 0) AS revenue,
    coalesce(avg(o.items) FILTER (WHERE o.purchased_at < c.at), 0) AS items_per_order,
    date_diff('day', max(o.purchased_at) FILTER (WHERE o.purchased_at < c.at), c.at)
        AS days_since_last,
    CAST(count(*) FILTER (WHERE o.purchased_at >= c.at) > 0 AS INTEGER) AS repeat
FROM orders AS o, cutoff AS c
GROUP BY o.customer_id, c.at
HAVING count(*) FILTER (WHERE o.purchased_at < c.at) > 0
