/* @config
kind: full
description: Customers as in the source database (reloaded whole when they change).
*/
SELECT customer_id, name, city FROM bronze.customers
