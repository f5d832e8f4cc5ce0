-- FactOrderReason: one row per (order, reason) the customer gave (grain: OrderId,
-- ReasonKey), a bridge between orders and DimReason as AdventureWorks'
-- FactInternetSalesReason. OrderRevenue is the whole order's revenue (items only, no
-- shipping); an order with two reasons appears twice, so sum it per reason, not overall.
-- ReasonCount lets a consumer split the revenue evenly between an order's reasons.
WITH order_revenue AS (
    SELECT order_id, sum(quantity * unit_price - discount_amount) AS revenue
    FROM silver.order_item
    GROUP BY order_id
),
reasons_per_order AS (
    SELECT order_id, count(*) AS reason_count
    FROM silver.order_reason
    GROUP BY order_id
)
SELECT
    r.order_id                                             AS OrderId,
    r.reason_id                                            AS ReasonKey,
    CAST(strftime(o.ordered_at, '%Y%m%d') AS INTEGER)      AS DateKey,
    o.customer_id                                          AS CustomerKey,
    o.status_id                                            AS OrderStatusKey,
    CAST(coalesce(v.revenue, 0) AS DECIMAL(18, 2))         AS OrderRevenue,
    n.reason_count                                         AS ReasonCount
FROM silver.order_reason AS r
JOIN silver.orders AS o ON o.order_id = r.order_id
LEFT JOIN order_revenue AS v ON v.order_id = r.order_id
JOIN reasons_per_order AS n ON n.order_id = r.order_id
