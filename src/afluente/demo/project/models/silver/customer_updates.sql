/* @config
kind: full
description: >
  The CRM's customer change feed, typed: one row per event, a move (city, UF and phone), a
  new e-mail, or a deletion the customer asked for under LGPD (op D). Events can land after
  newer ones; gold.dim_customer puts them in the order of updated_at.
tags: [pii]
owner: data-platform
columns:
  customer_id: {description: Customer business key}
  op: {description: "U: the customer's state after a change; D: the customer asked to be deleted"}
  updated_at: {description: When the change happened in the CRM (business time)}
  email: {description: "E-mail after the change, trimmed and lower-cased", tags: [pii]}
  phone: {description: "Phone after the change, digits only", tags: [pii]}
  city: {description: Conformed city name (silver.cities)}
  uf: {description: Two-letter state}
*/
WITH typed AS (
    SELECT
        TRY_CAST(trim(customer_id) AS BIGINT) AS customer_id,
        upper(trim(op)) AS op,
        TRY_CAST(trim(updated_at) AS TIMESTAMP) AS updated_at,
        NULLIF(lower(trim(email)), '') AS email,
        NULLIF(regexp_replace(trim(phone), '[^0-9]', '', 'g'), '') AS phone,
        lower(strip_accents(trim(city))) AS city_key,
        upper(trim(uf)) AS raw_uf
    FROM bronze.customer_updates
)
SELECT
    typed.customer_id,
    typed.op,
    typed.updated_at,
    typed.email,
    typed.phone,
    cities.city,
    coalesce(cities.uf, typed.raw_uf) AS uf
FROM typed
LEFT JOIN silver.cities AS cities ON cities.city_key = typed.city_key
WHERE typed.customer_id IS NOT NULL AND typed.updated_at IS NOT NULL AND typed.op IN ('U', 'D')
