/* @config
kind: full
description: >
  Revenue per state and minute of the order time, canceled orders left out; rebuilt from
  silver.live_orders by every micro-batch that changed it.
columns:
  uf: {description: Customer state}
  minute: {description: "Minute of ordered_at (UTC)"}
  orders: {description: Number of orders not canceled}
  revenue: {description: Sum of their amounts (BRL)}
*/
SELECT
    uf,
    date_trunc('minute', timezone('UTC', ordered_at)) AS minute,
    count(*) AS orders,
    sum(amount) AS revenue
FROM silver.live_orders
WHERE status <> 'canceled'
GROUP BY ALL
