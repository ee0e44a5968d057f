/* @config
kind: full
description: Paid revenue and order count per customer.
*/
SELECT c.customer_id, c.name, count(o.order_id) AS paid_orders,
       coalesce(sum(o.amount), 0) AS revenue
FROM silver.customers AS c
LEFT JOIN silver.orders AS o ON o.customer_id = c.customer_id AND o.status = 'paid'
GROUP BY c.customer_id, c.name
