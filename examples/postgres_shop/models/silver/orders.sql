/* @config
kind: full
description: >
  The latest version of each order. Bronze holds every version read, including rows read
  again inside the incremental lookback window; the newest `updated_at` wins.
*/
SELECT order_id, customer_id, status, amount, updated_at
FROM bronze.orders
QUALIFY row_number() OVER (
    PARTITION BY order_id ORDER BY updated_at DESC, _ingested_at DESC
) = 1
