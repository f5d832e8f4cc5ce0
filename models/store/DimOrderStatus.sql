-- DimOrderStatus: the order status lookup. Natural key OrderStatusKey = status_id.
SELECT
    s.status_id    AS OrderStatusKey,
    s.code         AS StatusCode,
    s.name         AS StatusName,
    s.is_final     AS IsFinal
FROM silver.order_status AS s
