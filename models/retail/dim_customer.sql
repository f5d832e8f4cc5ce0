-- dim_customer: one row per customer. Natural key customer_key = silver.customer.CustomerID.
-- Inputs: silver.customer (retail dataset or customer.csv).
SELECT
    c.CustomerID                           AS customer_key,
    c.FirstName                            AS first_name,
    c.LastName                             AS last_name,
    c.FirstName || ' ' || c.LastName       AS full_name,
    c.EmailAddress                         AS email,
    split_part(c.EmailAddress, '@', 2)     AS email_domain
FROM silver.customer AS c
