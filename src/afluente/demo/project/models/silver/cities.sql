/* @config
kind: full
description: >
  Conformed cities: one row per city key (lower-case, accent-free, single-spaced name), with
  the spelling and the state most often seen for it in customers and sellers. `SAO PAULO`,
  `sao paulo` and ` São Paulo ` all map to `São Paulo` / `SP`.
tags: [reference]
columns:
  city_key: {description: "Lower-case, accent-free, trimmed, single-spaced city name"}
  city: {description: "Most frequent spelling of the city (ties: first in sort order)"}
  uf: {description: "Most frequent valid two-letter state (UF) of the city"}
*/
WITH seen AS (
    SELECT
        regexp_replace(trim(city), '\s+', ' ', 'g') AS city,
        CASE
            WHEN upper(trim(uf)) IN (SELECT uf FROM silver.states) THEN upper(trim(uf))
        END AS uf
    FROM (
        SELECT city, uf FROM bronze.customers
        UNION ALL
        SELECT city, uf FROM bronze.sellers
    ) AS raw
    WHERE trim(city) <> ''
),
counted AS (
    SELECT lower(strip_accents(city)) AS city_key, city, uf, count(*) AS n
    FROM seen
    GROUP BY ALL
),
spelling AS (
    SELECT city_key, city
    FROM (SELECT city_key, city, sum(n) AS n FROM counted GROUP BY ALL) AS s
    QUALIFY row_number() OVER (PARTITION BY city_key ORDER BY n DESC, city) = 1
),
state AS (
    SELECT city_key, uf
    FROM (SELECT city_key, uf, sum(n) AS n FROM counted WHERE uf IS NOT NULL GROUP BY ALL) AS s
    QUALIFY row_number() OVER (PARTITION BY city_key ORDER BY n DESC, uf) = 1
)
SELECT spelling.city_key, spelling.city, state.uf
FROM spelling
LEFT JOIN state USING (city_key)
