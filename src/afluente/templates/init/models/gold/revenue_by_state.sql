/* @config
description: Revenue and order count per state (UF).
tags: [finance]
*/
SELECT c.uf, count(*) AS orders, sum(o.amount) AS revenue
FROM silver.orders AS o
JOIN silver.customers AS c USING (customer_id)
GROUP BY c.uf
