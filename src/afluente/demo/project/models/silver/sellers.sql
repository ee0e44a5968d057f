/* @config
kind: full
description: Marketplace sellers, typed and de-duplicated (one row per seller_id), city and UF conformed.
expectations:
  - {name: one_row_per_seller, unique: seller_id, action: fail}
  - {name: uf_two_letters, regex: {column: uf, pattern: '^[A-Z]{2}$'}, action: warn}
columns:
  seller_id: {description: Seller business key}
  name: {description: "Trade name, trimmed"}
  city: {description: Conformed city name (silver.cities)}
  uf: {description: "Two-letter state; from the city when the raw UF is missing or invalid"}
  created_at: {description: "Onboarding time; null when the raw value does not parse"}
*/
WITH typed AS (
    SELECT
        TRY_CAST(trim(seller_id) AS BIGINT) AS seller_id,
        NULLIF(regexp_replace(trim(name), '\s+', ' ', 'g'), '') AS name,
        lower(strip_accents(regexp_replace(trim(city), '\s+', ' ', 'g'))) AS city_key,
        upper(trim(uf)) AS raw_uf,
        try_strptime(
            trim(created_at),
            ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']
        ) AS created_at,
        _row_hash
    FROM bronze.sellers
    WHERE TRY_CAST(trim(seller_id) AS BIGINT) IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY seller_id ORDER BY _row_hash) = 1
)
SELECT
    typed.seller_id,
    typed.name,
    cities.city,
    CASE
        WHEN typed.raw_uf IN (SELECT uf FROM silver.states) THEN typed.raw_uf
        ELSE cities.uf
    END AS uf,
    typed.created_at
FROM typed
LEFT JOIN silver.cities AS cities ON cities.city_key = typed.city_key
