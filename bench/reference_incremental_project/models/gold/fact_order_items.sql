SELECT row_number() OVER (ORDER BY i.order_id, i.line_no)              AS order_item_sk,
       i.order_id, i.line_no,
       CAST(strftime(o.order_ts, '%Y%m%d') AS INTEGER)                  AS date_sk,
       dc.customer_sk, dp.product_sk,
       i.quantity, i.unit_price, i.line_amount, o.status
FROM silver.order_items i
JOIN silver.orders o      ON o.order_id = i.order_id
JOIN gold.dim_customer dc ON dc.customer_id = o.customer_id
JOIN gold.dim_product dp  ON dp.product_id = i.product_id
