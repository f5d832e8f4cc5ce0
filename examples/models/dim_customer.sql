-- One row per customer (retail sample), keyed by the source id.
SELECT
  CustomerID   AS customer_key,
  FirstName    AS first_name,
  LastName     AS last_name,
  EmailAddress AS email
FROM silver.customer
