/* @config
description: Typed orders, one per order_id (a later file's copy wins); rows whose keys, time or amount do not parse go to silver.orders__quarantine.
kind: merge
unique_key: order_id
expectations:
  - {name: null_order_id, not_null: order_id, action: quarantine}
  - {name: null_customer_id, not_null: customer_id, action: quarantine}
  - {name: bad_order_ts, not_null: order_ts, action: quarantine}
  - {name: bad_amount, not_null: amount, action: quarantine}
*/
WITH typed AS (
    SELECT TRY_CAST(order_id AS BIGINT)                          AS order_id,
           TRY_CAST(customer_id AS BIGINT)                       AS customer_id,
           try_strptime(order_ts, '%Y-%m-%d %H:%M:%S')           AS order_ts,
           status,
           channel,
           TRY_CAST(replace(amount, ',', '.') AS DECIMAL(18,2))  AS amount,
           _ingested_at, _source,
           order_id IS NULL OR customer_id IS NULL OR order_ts IS NULL OR amount IS NULL
               OR TRY_CAST(order_id AS BIGINT) IS NULL OR TRY_CAST(customer_id AS BIGINT) IS NULL
               OR try_strptime(order_ts, '%Y-%m-%d %H:%M:%S') IS NULL
               OR TRY_CAST(replace(amount, ',', '.') AS DECIMAL(18,2)) IS NULL AS bad
    FROM bronze.orders
)
-- every copy of a bad row stays for the quarantine; good rows keep one per order_id
SELECT order_id, customer_id, order_ts, status, channel, amount, _ingested_at
FROM typed
QUALIFY bad OR row_number() OVER (PARTITION BY order_id, bad ORDER BY _ingested_at DESC, _source DESC) = 1
