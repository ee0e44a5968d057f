SELECT row_number() OVER (ORDER BY customer_id) AS customer_sk,
       customer_id, name, email, country, signup_date
FROM silver.customers
