-- DimReason: why customers ordered (the sales reason lookup). Natural key ReasonKey = reason_id.
SELECT
    r.reason_id    AS ReasonKey,
    r.name         AS ReasonName,
    r.reason_type  AS ReasonType
FROM silver.reason AS r
