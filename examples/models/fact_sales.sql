-- One row per order line (retail sample), with keys into the dimensions and dim_date.
SELECT
  SalesOrderID                                      AS order_id,
  LineItem                                          AS line_item,
  CAST(strftime(CAST(OrderDate AS DATE), '%Y%m%d') AS INTEGER) AS date_key,
  CustomerID                                        AS customer_key,
  ProductID                                         AS product_key,
  OrderQty                                          AS quantity,
  LineItemTotal                                     AS line_total
FROM silver.salesorder
