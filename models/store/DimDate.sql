-- DimDate: one row per calendar day, covering whole years from the first to the last order.
-- Key DateKey = YYYYMMDD as an integer (FactSales and FactOrderReason carry it).
WITH bounds AS (
    SELECT
        CAST(date_trunc('year', min(ordered_at)) AS TIMESTAMP)                          AS first_day,
        CAST(date_trunc('year', max(ordered_at)) AS TIMESTAMP) + INTERVAL 1 YEAR
            - INTERVAL 1 DAY                                                            AS last_day
    FROM silver.orders
),
days AS (
    SELECT CAST(d.generate_series AS DATE) AS day
    FROM bounds, generate_series(bounds.first_day, bounds.last_day, INTERVAL 1 DAY) AS d
)
SELECT
    CAST(strftime(day, '%Y%m%d') AS INTEGER)   AS DateKey,
    day                                        AS Date,
    year(day)                                  AS Year,
    quarter(day)                               AS Quarter,
    month(day)                                 AS Month,
    monthname(day)                             AS MonthName,
    strftime(day, '%Y-%m')                     AS YearMonth,
    day(day)                                   AS DayOfMonth,
    isodow(day)                                AS DayOfWeek,
    dayname(day)                               AS DayName,
    isodow(day) >= 6                           AS IsWeekend
FROM days
