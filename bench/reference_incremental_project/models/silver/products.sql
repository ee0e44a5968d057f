/* @config
description: One row per product_id.
*/
SELECT * FROM (
    SELECT CAST(product_id AS BIGINT) AS product_id, sku, name, category,
           CAST(list_price AS DECIMAL(18,2)) AS list_price, _ingested_at
    FROM bronze.products
    WHERE product_id IS NOT NULL)
QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY _ingested_at DESC) = 1
