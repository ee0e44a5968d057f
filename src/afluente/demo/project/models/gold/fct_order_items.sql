/* @config
kind: full
description: >
  One row per order item with keys to the order's customer and date and to the product and
  seller dimensions (unknown members when the reference is missing: -1 for the customer, md5('-1')
  for product and seller). Items of products missing from the catalog go to
  gold.fct_order_items__quarantine for the catalog team; items of orders whose purchase time
  did not parse are dropped (gold.fct_orders keeps the order, with date_key -1).
expectations:
  - {name: one_row_per_item, unique: [order_id, item_seq], action: fail}
  - {name: product_in_catalog, expression: "product_key <> md5('-1')", action: quarantine}
  - {name: purchase_dated, expression: date_key <> -1, action: drop}
columns:
  revenue: {description: "quantity * unit_price (BRL, freight excluded)"}
*/
SELECT
    i.order_id,
    i.item_seq,
    coalesce(o.customer_key, -1) AS customer_key,
    coalesce(o.date_key, -1) AS date_key,
    coalesce(p.product_key, md5('-1')) AS product_key,
    coalesce(s.seller_key, md5('-1')) AS seller_key,
    i.quantity,
    i.unit_price,
    i.freight_value,
    i.revenue
FROM silver.order_items AS i
LEFT JOIN gold.fct_orders AS o ON o.order_id = i.order_id
LEFT JOIN gold.dim_product AS p ON p.product_id = i.product_id
LEFT JOIN gold.dim_seller AS s ON s.seller_id = i.seller_id
