/* @config
description: One row per (order_id, line_no), with the product's category and the line amount (a later file's copy wins).
kind: merge
unique_key: [order_id, line_no]
*/
WITH typed AS (
    SELECT CAST(order_id AS BIGINT) AS order_id, CAST(line_no AS INTEGER) AS line_no,
           CAST(product_id AS BIGINT) AS product_id, CAST(quantity AS INTEGER) AS quantity,
           CAST(unit_price AS DECIMAL(18,2)) AS unit_price, _ingested_at, _source
    FROM bronze.order_items
    WHERE order_id IS NOT NULL AND line_no IS NOT NULL AND product_id IS NOT NULL),
deduped AS (
    SELECT * FROM typed
    QUALIFY row_number() OVER (PARTITION BY order_id, line_no ORDER BY _ingested_at DESC, _source DESC) = 1)
SELECT i.order_id, i.line_no, i.product_id, p.category, i.quantity, i.unit_price,
       CAST(i.quantity * i.unit_price AS DECIMAL(18,2)) AS line_amount, i._ingested_at
FROM deduped i JOIN silver.products p ON p.product_id = i.product_id
