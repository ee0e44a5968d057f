/* @config
kind: full
description: >
  Monthly revenue per state (UF of the customer), canceled orders excluded. Orders of unknown
  customers or with an unknown state count under uf '??'; orders without a parseable date
  under a null month.
tags: [mart]
freshness: {warn_after: 1d, error_after: 2d}
columns:
  uf: {description: "Customer state, '??' when unknown"}
  month: {description: "First day of the purchase month; null when unknown"}
  orders: {description: Number of orders}
  items: {description: Number of items}
  gross_revenue: {description: "Sum of quantity * unit_price (BRL)"}
  average_ticket: {description: "gross_revenue / orders (BRL)"}
*/
SELECT
    coalesce(c.uf, '??') AS uf,
    d.month_start AS month,
    count(*) AS orders,
    CAST(sum(f.items) AS BIGINT) AS items,
    sum(f.gross_amount) AS gross_revenue,
    CAST(sum(f.gross_amount) / count(*) AS DECIMAL(18, 2)) AS average_ticket
FROM gold.fct_orders AS f
JOIN gold.dim_customer AS c ON c.customer_key = f.customer_key
JOIN gold.dim_date AS d ON d.date_key = f.date_key
WHERE f.status <> 'canceled'
GROUP BY ALL
