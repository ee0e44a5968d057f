/* @config
kind: merge
unique_key: order_id
description: >
  Orders, typed: the latest version of each order_id by updated_at (late re-sends in
  orders_updates_*.csv change the status). Incremental: each run reads only the newly
  ingested bronze files and upserts their latest version of each order by order_id (a
  re-send landing in a later batch replaces the stored order). Purchase times are parsed
  from every format the sources use; unparseable ones are null. Orders of unknown customers are kept.
columns:
  order_id: {description: Order business key}
  customer_id: {description: "Customer reference as sent; may point to no silver.customers row"}
  status: {description: "Lower-case status: created, approved, invoiced, shipped, delivered, canceled"}
  channel: {description: "Sales channel: site, app, marketplace, televendas"}
  purchased_at: {description: "Purchase time; null when the raw value does not parse"}
  order_date: {description: Date of purchased_at}
  updated_at: {description: Time of the version kept}
*/
WITH typed AS (
    SELECT
        TRY_CAST(trim(order_id) AS BIGINT) AS order_id,
        TRY_CAST(trim(customer_id) AS BIGINT) AS customer_id,
        lower(trim(status)) AS status,
        lower(trim(channel)) AS channel,
        try_strptime(
            trim(purchased_at),
            ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']
        ) AS purchased_at,
        try_strptime(
            trim(updated_at),
            ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']
        ) AS updated_at,
        _row_hash
    FROM bronze.orders
)
SELECT
    order_id,
    customer_id,
    status,
    channel,
    purchased_at,
    CAST(purchased_at AS DATE) AS order_date,
    updated_at
FROM typed
WHERE order_id IS NOT NULL
QUALIFY row_number() OVER (
    PARTITION BY order_id ORDER BY updated_at DESC NULLS LAST, _row_hash
) = 1
