/* @config
kind: full
description: >
  Payments, typed and de-duplicated (one row per order_id, payment_seq). The provider exports
  `;`-separated files with Brazilian decimal commas (`1.234,56`), sometimes `1234.56`.
expectations:
  - {name: one_row_per_payment, unique: [order_id, payment_seq], action: fail}
  - {name: amount_parsed, not_null: amount, action: quarantine}
  - {name: amount_positive, between: {column: amount, min: 0.01}, action: quarantine}
  - name: known_method
    accepted_values: {column: method, values: [pix, boleto, credit_card, debit_card]}
    action: warn
  - {name: installments_range, between: {column: installments, min: 1, max: 24}, action: warn}
columns:
  method: {description: "pix, boleto, credit_card or debit_card"}
  installments: {description: Number of card installments (1 for other methods)}
  amount: {description: "Amount paid in BRL, DECIMAL(18,2)"}
*/
WITH typed AS (
    SELECT
        TRY_CAST(trim(order_id) AS BIGINT) AS order_id,
        TRY_CAST(trim(payment_seq) AS INTEGER) AS payment_seq,
        lower(trim(method)) AS method,
        TRY_CAST(trim(installments) AS INTEGER) AS installments,
        TRY_CAST(
            CASE
                WHEN contains(amount, ',') THEN replace(replace(trim(amount), '.', ''), ',', '.')
                ELSE trim(amount)
            END AS DECIMAL(18, 2)
        ) AS amount,
        _row_hash
    FROM bronze.payments
)
SELECT order_id, payment_seq, method, installments, amount
FROM typed
WHERE order_id IS NOT NULL AND payment_seq IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY order_id, payment_seq ORDER BY _row_hash) = 1
