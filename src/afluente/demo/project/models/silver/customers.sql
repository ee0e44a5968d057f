/* @config
kind: full
description: >
  Customers, typed, cleaned and de-duplicated: one row per customer_id. Of the copies a
  customer was sent in, the best-formed one wins (name already in proper case, clean e-mail,
  valid CPF), then the latest landed (an update sent later replaces the customer's data).
  CPFs are validated with their check digits; city and UF are conformed.
tags: [pii]
owner: data-platform
columns:
  customer_id: {description: Customer business key}
  name: {description: "Full name, trimmed, single-spaced, title-cased (da/de/do/dos/das/e lower)", tags: [pii]}
  cpf: {description: "CPF, 11 digits only, null when invalid", tags: [pii]}
  cpf_valid: {description: "True when the raw CPF has 11 digits, not all equal, and correct check digits"}
  email: {description: "E-mail, trimmed and lower-cased", tags: [pii]}
  phone: {description: "Phone, digits only: area code (DDD) and number", tags: [pii]}
  city: {description: Conformed city name (silver.cities)}
  uf: {description: "Two-letter state; from the city when the raw UF is missing or invalid"}
  created_at: {description: "Registration time; null when the raw value does not parse"}
  landed_at: {description: "When the copy kept landed (bronze _ingested_at)"}
*/
WITH typed AS (
    SELECT
        TRY_CAST(trim(customer_id) AS BIGINT) AS customer_id,
        NULLIF(regexp_replace(trim(name), '\s+', ' ', 'g'), '') AS raw_name,
        regexp_replace(coalesce(cpf, ''), '[^0-9]', '', 'g') AS cpf_digits,
        NULLIF(lower(trim(email)), '') AS email,
        coalesce(email = lower(trim(email)), false) AS email_was_clean,
        NULLIF(regexp_replace(regexp_replace(trim(phone), '^\+55', ''), '[^0-9]', '', 'g'), '')
            AS phone,
        lower(strip_accents(regexp_replace(trim(city), '\s+', ' ', 'g'))) AS city_key,
        upper(trim(uf)) AS raw_uf,
        try_strptime(
            trim(created_at),
            ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y']
        ) AS created_at,
        _ingested_at,
        _row_hash
    FROM bronze.customers
),
checked AS (
    SELECT
        *,
        array_to_string(
            list_transform(
                string_split(lower(raw_name), ' '),
                lambda w: CASE
                    WHEN w IN ('da', 'de', 'do', 'das', 'dos', 'e') THEN w
                    ELSE upper(substr(w, 1, 1)) || substr(w, 2)
                END
            ),
            ' '
        ) AS name,
        TRY_CAST(substr(cpf_digits, 1, 1) AS INTEGER) AS d1,
        TRY_CAST(substr(cpf_digits, 2, 1) AS INTEGER) AS d2,
        TRY_CAST(substr(cpf_digits, 3, 1) AS INTEGER) AS d3,
        TRY_CAST(substr(cpf_digits, 4, 1) AS INTEGER) AS d4,
        TRY_CAST(substr(cpf_digits, 5, 1) AS INTEGER) AS d5,
        TRY_CAST(substr(cpf_digits, 6, 1) AS INTEGER) AS d6,
        TRY_CAST(substr(cpf_digits, 7, 1) AS INTEGER) AS d7,
        TRY_CAST(substr(cpf_digits, 8, 1) AS INTEGER) AS d8,
        TRY_CAST(substr(cpf_digits, 9, 1) AS INTEGER) AS d9,
        TRY_CAST(substr(cpf_digits, 10, 1) AS INTEGER) AS d10,
        TRY_CAST(substr(cpf_digits, 11, 1) AS INTEGER) AS d11
    FROM typed
    WHERE customer_id IS NOT NULL
),
validated AS (
    SELECT
        *,
        coalesce(
            length(cpf_digits) = 11
            AND cpf_digits <> repeat(substr(cpf_digits, 1, 1), 11)
            AND (10 * d1 + 9 * d2 + 8 * d3 + 7 * d4 + 6 * d5 + 5 * d6 + 4 * d7 + 3 * d8 + 2 * d9) * 10 % 11 % 10 = d10
            AND (11 * d1 + 10 * d2 + 9 * d3 + 8 * d4 + 7 * d5 + 6 * d6 + 5 * d7 + 4 * d8 + 3 * d9 + 2 * d10) * 10 % 11 % 10 = d11,
            false
        ) AS cpf_valid
    FROM checked
),
best AS (
    SELECT *
    FROM validated
    QUALIFY row_number() OVER (
        PARTITION BY customer_id
        ORDER BY raw_name = name DESC NULLS LAST, email_was_clean DESC, cpf_valid DESC,
            _ingested_at DESC NULLS LAST, _row_hash
    ) = 1
)
SELECT
    best.customer_id,
    best.name,
    CASE WHEN best.cpf_valid THEN best.cpf_digits END AS cpf,
    best.cpf_valid,
    best.email,
    best.phone,
    cities.city,
    CASE
        WHEN best.raw_uf IN (SELECT uf FROM silver.states) THEN best.raw_uf
        ELSE cities.uf
    END AS uf,
    best.created_at,
    best._ingested_at AS landed_at
FROM best
LEFT JOIN silver.cities AS cities ON cities.city_key = best.city_key
