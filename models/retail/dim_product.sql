-- dim_product: one row per product. Natural key product_key = silver.product.ProductID.
-- list_price is DECIMAL(18,4): exact for both the generated numeric(10,2) prices and the
-- seed CSV's 4-decimal prices.
SELECT
    p.ProductID                            AS product_key,
    p.ProductName                          AS product_name,
    p.Category                             AS category,
    CAST(p.ListPrice AS DECIMAL(18, 4))    AS list_price,
    CASE
        WHEN p.ListPrice >= 1000 THEN 'premium'
        WHEN p.ListPrice >= 100 THEN 'standard'
        ELSE 'accessory'
    END                                    AS price_band
FROM silver.product AS p
