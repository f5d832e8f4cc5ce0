-- fact_sales: one row per order line (grain: SalesOrderID, LineItem).
-- Keys: date_key -> dim_date, customer_key -> dim_customer, product_key -> dim_product.
-- Amounts are exact decimals: line_total is the source's line total; list_amount is
-- quantity x list price; discount_amount is what the customer did not pay of list.
SELECT
    s.SalesOrderID                                         AS sales_order_id,
    s.LineItem                                             AS line_item,
    CAST(strftime(s.OrderDate, '%Y%m%d') AS INTEGER)       AS date_key,
    s.OrderDate                                            AS order_date,
    s.CustomerID                                           AS customer_key,
    s.ProductID                                            AS product_key,
    s.OrderQty                                             AS quantity,
    CAST(s.LineItemTotal AS DECIMAL(18, 2))                AS line_total,
    CAST(p.ListPrice * s.OrderQty AS DECIMAL(18, 4))       AS list_amount,
    CAST(p.ListPrice * s.OrderQty - s.LineItemTotal AS DECIMAL(18, 4)) AS discount_amount
FROM silver.salesorder AS s
LEFT JOIN silver.product AS p ON p.ProductID = s.ProductID
