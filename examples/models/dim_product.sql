-- One row per product (retail sample); kept as SCD type 2 by the model's materialization.
SELECT
  ProductID   AS product_key,
  ProductName AS product_name,
  Category    AS category,
  ListPrice   AS list_price
FROM silver.product
