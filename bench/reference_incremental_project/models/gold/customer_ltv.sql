SELECT c.customer_id, c.country,
       CAST(min(o.order_ts) AS DATE)                             AS first_order_date,
       CAST(max(o.order_ts) AS DATE)                             AS last_order_date,
       CAST(count(o.order_id) AS BIGINT)                         AS order_count,
       CAST(coalesce(sum(o.amount), 0) AS DECIMAL(18,2))         AS lifetime_value
FROM silver.customers c
LEFT JOIN silver.orders o ON o.customer_id = c.customer_id AND o.status <> 'cancelled'
GROUP BY c.customer_id, c.country
