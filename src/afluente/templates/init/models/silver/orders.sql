/* @config
description: Orders with typed amounts (decimal commas parsed) and dates.
*/
SELECT
    CAST(order_id AS INTEGER) AS order_id,
    CAST(customer_id AS INTEGER) AS customer_id,
    CAST(replace(amount, ',', '.') AS DECIMAL(18, 2)) AS amount,
    CAST(ordered_at AS DATE) AS ordered_at
FROM bronze.orders
