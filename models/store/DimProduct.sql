-- DimProduct: one row per product with its category and current stock.
-- Natural key ProductKey = product_id; CategoryKey -> DimCategory, SellerKey -> DimSeller.
SELECT
    p.product_id                                           AS ProductKey,
    p.sku                                                  AS Sku,
    p.name                                                 AS ProductName,
    p.category_id                                          AS CategoryKey,
    c.name                                                 AS CategoryName,
    p.seller_id                                            AS SellerKey,
    CAST(p.unit_price AS DECIMAL(18, 2))                   AS ListPrice,
    CAST(p.unit_cost AS DECIMAL(18, 2))                    AS StandardCost,
    CAST(p.unit_price - p.unit_cost AS DECIMAL(18, 2))     AS UnitMargin,
    p.weight_kg                                            AS WeightKg,
    p.is_active                                            AS IsActive,
    coalesce(stock.quantity_on_hand, 0)                    AS QuantityOnHand
FROM silver.product AS p
LEFT JOIN silver.category AS c ON c.category_id = p.category_id
LEFT JOIN (
    SELECT product_id, sum(quantity_on_hand) AS quantity_on_hand
    FROM silver.inventory
    GROUP BY product_id
) AS stock ON stock.product_id = p.product_id
