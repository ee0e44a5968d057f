/* @config
kind: full
description: >
  Seller dimension. seller_key is md5 of the business key; seller_id -1 (key md5('-1')) is
  the unknown member.
columns:
  seller_key: {description: "Surrogate key: md5(seller_id as text)"}
*/
SELECT md5(CAST(seller_id AS VARCHAR)) AS seller_key, seller_id, name, city, uf
FROM silver.sellers
UNION ALL
SELECT md5('-1'), -1, 'Vendedor desconhecido', NULL, NULL
