-- DimCustomerHistory: type 2 history of the customer attributes that matter for analysis
-- (materialization "scd2", key CustomerKey): the gold stage closes the current version and
-- opens a new one whenever these values change, adding ValidFrom/ValidTo/IsCurrent as
-- valid_from / valid_to / is_current. SourceChangedAt is silver's _source_commit_ts.
SELECT
    c.customer_id                          AS CustomerKey,
    c.email                                AS Email,
    c.phone                                AS Phone,
    a.city                                 AS City,
    a.country_code                         AS CountryCode,
    c._source_commit_ts                    AS SourceChangedAt
FROM silver.customer AS c
LEFT JOIN silver.address AS a ON a.address_id = c.address_id
