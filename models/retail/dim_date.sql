-- dim_date: one row per calendar day, covering whole years from the first to the last
-- order date. Key date_key = YYYYMMDD as an integer (the fact tables carry the same key).
WITH bounds AS (
    SELECT
        CAST(date_trunc('year', min(OrderDate)) AS TIMESTAMP)                          AS first_day,
        CAST(date_trunc('year', max(OrderDate)) AS TIMESTAMP) + INTERVAL 1 YEAR
            - INTERVAL 1 DAY                                                           AS last_day
    FROM silver.salesorder
),
days AS (
    SELECT CAST(d.generate_series AS DATE) AS day
    FROM bounds, generate_series(bounds.first_day, bounds.last_day, INTERVAL 1 DAY) AS d
)
SELECT
    CAST(strftime(day, '%Y%m%d') AS INTEGER)   AS date_key,
    day                                        AS date,
    year(day)                                  AS year,
    quarter(day)                               AS quarter,
    month(day)                                 AS month,
    monthname(day)                             AS month_name,
    strftime(day, '%Y-%m')                     AS year_month,
    day(day)                                   AS day_of_month,
    isodow(day)                                AS day_of_week,
    dayname(day)                               AS day_name,
    isodow(day) >= 6                           AS is_weekend
FROM days
