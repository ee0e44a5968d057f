SELECT row_number() OVER (ORDER BY product_id) AS product_sk,
       product_id, sku, name, category, list_price
FROM silver.products
