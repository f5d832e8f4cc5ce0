-- FactSales: one row per order line (grain: OrderId, LineNumber), with exact amounts:
--   Revenue  = quantity x unit_price - discount_amount (the price paid at order time)
--   Cost     = quantity x unit_cost
--   Profit   = Revenue - Cost
-- Keys: DateKey -> DimDate, CustomerKey -> DimCustomer, ProductKey -> DimProduct,
-- CategoryKey -> DimCategory, SellerKey -> DimSeller, OrderStatusKey -> DimOrderStatus.
-- Cancelled and returned orders stay in the fact; filter on OrderStatusKey (or IsFinal and
-- StatusCode in DimOrderStatus) to exclude them.
SELECT
    i.order_id                                                         AS OrderId,
    i.line_number                                                      AS LineNumber,
    CAST(strftime(o.ordered_at, '%Y%m%d') AS INTEGER)                  AS DateKey,
    o.ordered_at                                                       AS OrderedAt,
    o.customer_id                                                      AS CustomerKey,
    i.product_id                                                       AS ProductKey,
    p.category_id                                                      AS CategoryKey,
    i.seller_id                                                        AS SellerKey,
    o.status_id                                                        AS OrderStatusKey,
    i.quantity                                                         AS Quantity,
    CAST(i.unit_price AS DECIMAL(18, 2))                               AS UnitPrice,
    CAST(i.discount_amount AS DECIMAL(18, 2))                          AS DiscountAmount,
    CAST(i.quantity * i.unit_price - i.discount_amount AS DECIMAL(18, 2)) AS Revenue,
    CAST(i.quantity * i.unit_cost AS DECIMAL(18, 2))                   AS Cost,
    CAST(i.quantity * i.unit_price - i.discount_amount - i.quantity * i.unit_cost
         AS DECIMAL(18, 2))                                            AS Profit
FROM silver.order_item AS i
JOIN silver.orders AS o ON o.order_id = i.order_id
LEFT JOIN silver.product AS p ON p.product_id = i.product_id
