-- DimSeller: one row per seller with its location. Natural key SellerKey = seller_id.
SELECT
    s.seller_id            AS SellerKey,
    s.name                 AS SellerName,
    s.email                AS Email,
    a.city                 AS City,
    a.state                AS State,
    a.country_code         AS CountryCode,
    s.joined_on            AS JoinedOn,
    s.commission_rate      AS CommissionRate
FROM silver.seller AS s
LEFT JOIN silver.address AS a ON a.address_id = s.address_id
