-- DimCustomer: one row per customer with the home address. Natural key CustomerKey =
-- customer_id.
SELECT
    c.customer_id                          AS CustomerKey,
    c.first_name                           AS FirstName,
    c.last_name                            AS LastName,
    c.first_name || ' ' || c.last_name     AS FullName,
    c.email                                AS Email,
    c.phone                                AS Phone,
    a.city                                 AS City,
    a.state                                AS State,
    a.postal_code                          AS PostalCode,
    a.country_code                         AS CountryCode,
    c.created_at                           AS CreatedAt
FROM silver.customer AS c
LEFT JOIN silver.address AS a ON a.address_id = c.address_id
