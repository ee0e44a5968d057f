/* @config
kind: full
description: >
  Product dimension. product_key is md5 of the business key; product_id -1 (key md5('-1'))
  is the unknown member for items whose product is not in the catalogue.
columns:
  product_key: {description: "Surrogate key: md5(product_id as text)"}
*/
SELECT
    md5(CAST(product_id AS VARCHAR)) AS product_key,
    product_id,
    name,
    category_id,
    coalesce(category, 'Sem categoria') AS category,
    coalesce(department, 'Sem departamento') AS department,
    brand,
    price,
    weight_g
FROM silver.products
UNION ALL
SELECT
    md5('-1'), -1, 'Produto desconhecido', NULL, 'Sem categoria', 'Sem departamento',
    NULL, NULL, NULL
