/* @config
kind: full
description: >
  Customer dimension. customer_key is md5 of the business key; the row with customer_id -1
  (key md5('-1')) is the unknown member that orders of missing customers point to.
tags: [pii]
columns:
  customer_key: {description: "Surrogate key: md5(customer_id as text)"}
  cpf: {tags: [pii]}
  email: {tags: [pii]}
  phone: {tags: [pii]}
  name: {tags: [pii]}
*/
SELECT
    md5(CAST(customer_id AS VARCHAR)) AS customer_key,
    customer_id,
    name,
    cpf,
    cpf_valid,
    email,
    phone,
    city,
    uf,
    created_at
FROM silver.customers
UNION ALL
SELECT
    md5('-1'), -1, 'Cliente desconhecido', NULL, false, NULL, NULL, NULL, NULL, NULL
