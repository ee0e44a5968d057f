SELECT CAST(o.order_ts AS DATE)                       AS order_date,
       i.category,
       CAST(sum(i.line_amount) AS DECIMAL(18,2))     AS revenue,
       CAST(sum(i.quantity) AS BIGINT)               AS units,
       CAST(count(DISTINCT i.order_id) AS BIGINT)    AS orders
FROM silver.order_items i JOIN silver.orders o ON o.order_id = i.order_id
WHERE o.status <> 'cancelled'
GROUP BY ALL
