/* @config
kind: full
description: >
  Products, typed, with the category conformed to the category list (case, accents and
  whitespace ignored) and prices parsed from either `1234.56` or `1.234,56`.
expectations:
  - {name: one_row_per_product, unique: product_id, action: fail}
  - {name: price_positive, between: {column: price, min: 0.01}, action: quarantine}
  - {name: category_known, not_null: category, action: warn, mostly: 0.95}
columns:
  product_id: {description: Product business key}
  category: {description: "Canonical category name; null when missing or unknown"}
  department: {description: Department of the category}
  price: {description: "List price in BRL, DECIMAL(18,2)"}
  weight_g: {description: Shipping weight in grams}
*/
WITH categories AS (
    SELECT
        TRY_CAST(trim(category_id) AS INTEGER) AS category_id,
        trim(name) AS category,
        trim(department) AS department,
        lower(strip_accents(trim(name))) AS category_key
    FROM bronze.categories
    QUALIFY row_number() OVER (PARTITION BY category_key ORDER BY category_id) = 1
),
typed AS (
    SELECT
        TRY_CAST(trim(product_id) AS BIGINT) AS product_id,
        NULLIF(regexp_replace(trim(name), '\s+', ' ', 'g'), '') AS name,
        lower(strip_accents(regexp_replace(trim(category), '\s+', ' ', 'g'))) AS category_key,
        NULLIF(trim(brand), '') AS brand,
        TRY_CAST(
            CASE
                WHEN contains(price, ',') THEN replace(replace(trim(price), '.', ''), ',', '.')
                ELSE trim(price)
            END AS DECIMAL(18, 2)
        ) AS price,
        TRY_CAST(trim(weight_g) AS INTEGER) AS weight_g,
        _row_hash
    FROM bronze.products
    WHERE TRY_CAST(trim(product_id) AS BIGINT) IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY _row_hash) = 1
)
SELECT
    typed.product_id,
    typed.name,
    categories.category_id,
    categories.category,
    categories.department,
    typed.brand,
    typed.price,
    typed.weight_g
FROM typed
LEFT JOIN categories ON categories.category_key = typed.category_key
