-- dim_customer_scd2: type 2 history of dim_customer (materialization "scd2", key
-- customer_key). The model selects the tracked attributes of the current silver row; the
-- gold stage compares them with the current version and, when they differ, closes that
-- version and opens a new one, adding valid_from / valid_to / is_current.
-- source_changed_at is the source commit time of the silver row (silver metadata column
-- _source_commit_ts), so each version also says when the source changed, not only when
-- gold saw it.
SELECT
    c.CustomerID                           AS customer_key,
    c.FirstName                            AS first_name,
    c.LastName                             AS last_name,
    c.EmailAddress                         AS email,
    c._source_commit_ts                    AS source_changed_at
FROM silver.customer AS c
