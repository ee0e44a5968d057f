/* @config
description: One row per customer_id.
*/
SELECT * FROM (
    SELECT CAST(customer_id AS BIGINT) AS customer_id, name, email, country,
           CAST(signup_date AS DATE) AS signup_date, _ingested_at
    FROM bronze.customers
    WHERE customer_id IS NOT NULL)
QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY _ingested_at DESC) = 1
