/* @config
kind: merge
unique_key: order_id
dedupe_by: event_at
description: >
  The latest version of each order from the order events: each micro-batch reads only the
  bronze versions that are new since the last one and upserts by order_id (a status change
  sent later replaces the order).
*/
SELECT
    CAST(order_id AS BIGINT) AS order_id,
    CAST(customer_id AS BIGINT) AS customer_id,
    upper(trim(uf)) AS uf,
    channel,
    lower(status) AS status,
    CAST(amount AS DECIMAL(12, 2)) AS amount,
    CAST(ordered_at AS TIMESTAMPTZ) AS ordered_at,
    CAST(event_at AS TIMESTAMPTZ) AS event_at,
    _kafka_timestamp AS produced_at
FROM bronze.order_events
WHERE order_id IS NOT NULL
