-- sales_by_category_month: revenue per product category and calendar month, the totals
-- the issue's gold check compares with sums computed from the CSV files.
SELECT
    coalesce(p.Category, 'Unknown')                AS category,
    strftime(s.OrderDate, '%Y-%m')                 AS year_month,
    count(DISTINCT s.SalesOrderID)                 AS orders,
    sum(s.OrderQty)                                AS quantity,
    CAST(sum(s.LineItemTotal) AS DECIMAL(18, 2))   AS revenue
FROM silver.salesorder AS s
LEFT JOIN silver.product AS p ON p.ProductID = s.ProductID
GROUP BY ALL
