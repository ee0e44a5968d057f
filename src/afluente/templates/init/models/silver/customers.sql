/* @config
description: One row per customer, names and emails tidied.
tags: [pii]
columns:
  email: {description: "Lower-cased e-mail", tags: [pii]}
*/
SELECT DISTINCT
    CAST(customer_id AS INTEGER) AS customer_id,
    trim(name) AS name,
    lower(email) AS email,
    upper(uf) AS uf
FROM bronze.customers
