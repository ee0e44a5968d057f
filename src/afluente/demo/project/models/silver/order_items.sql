/* @config
kind: full
description: >
  Order items, typed and de-duplicated (one row per order_id, item_seq); money parsed from
  `1234.56` and `1.234,56` alike into DECIMAL(18,2).
expectations:
  - {name: one_row_per_item, unique: [order_id, item_seq], action: fail}
  - {name: unit_price_parsed, not_null: unit_price, action: fail}
  - {name: positive_quantity, between: {column: quantity, min: 1}, action: drop}
columns:
  unit_price: {description: "Unit price in BRL after discount"}
  freight_value: {description: "Freight charged for the item in BRL; 0 when missing"}
  revenue: {description: "quantity * unit_price (freight excluded)"}
*/
WITH typed AS (
    SELECT
        TRY_CAST(trim(order_id) AS BIGINT) AS order_id,
        TRY_CAST(trim(item_seq) AS INTEGER) AS item_seq,
        TRY_CAST(trim(product_id) AS BIGINT) AS product_id,
        TRY_CAST(trim(seller_id) AS BIGINT) AS seller_id,
        TRY_CAST(trim(quantity) AS INTEGER) AS quantity,
        TRY_CAST(
            CASE
                WHEN contains(unit_price, ',')
                    THEN replace(replace(trim(unit_price), '.', ''), ',', '.')
                ELSE trim(unit_price)
            END AS DECIMAL(18, 2)
        ) AS unit_price,
        coalesce(TRY_CAST(
            CASE
                WHEN contains(freight_value, ',')
                    THEN replace(replace(trim(freight_value), '.', ''), ',', '.')
                ELSE trim(freight_value)
            END AS DECIMAL(18, 2)
        ), 0) AS freight_value,
        _row_hash
    FROM bronze.order_items
)
SELECT
    order_id,
    item_seq,
    product_id,
    seller_id,
    quantity,
    unit_price,
    freight_value,
    CAST(quantity * unit_price AS DECIMAL(18, 2)) AS revenue
FROM typed
WHERE order_id IS NOT NULL AND item_seq IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY order_id, item_seq ORDER BY _row_hash) = 1
