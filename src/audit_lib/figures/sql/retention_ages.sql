-- State items (received_at < as_of) aged at as_of in whole calendar years,
-- grouped finely enough to derive the by-category and by-system views.
-- past_cap and past_grace count the items that break RET-01's and RET-02's
-- rules (the same macros, past_cap and expired_accounts), before exemptions.
--
-- Speed without losing exactness: an item's age and whether it is past the cap
-- depend only on its UTC day of receipt and on whether its time of day is
-- before, at or after as_of's. Items are first counted per such group (one
-- cheap integer pass); calendar arithmetic then runs once per group on a
-- representative instant. It runs on naive UTC timestamps (make_timestamp of
-- epoch microseconds), where DuckDB's own arithmetic equals ICU's in UTC
-- (2016-02-29 + 10 years = 2026-02-28) at a fraction of the cost.
WITH bounds AS (
    SELECT make_timestamp(epoch_us($as_of)) AS as_of,
           epoch_us($as_of) % 86400000000 AS time_of_day
),
items AS (
    SELECT p.category, p.system, p.system_kind, epoch_us(p.received_at) AS us,
           e.customer_id IS NOT NULL AS expired
    FROM personal_data AS p
    LEFT JOIN expired_accounts($as_of, $grace_days) AS e USING (customer_id)
    WHERE p.received_at < $as_of
),
groups AS (
    SELECT
        category, system, system_kind, expired,
        (us - ((us % 86400000000) + 86400000000) % 86400000000) // 86400000000 AS day,
        sign(((us % 86400000000) + 86400000000) % 86400000000 - bounds.time_of_day) AS side,
        count(*) AS items
    FROM items, bounds
    GROUP BY ALL
),
represented AS (
    SELECT groups.*, bounds.as_of,
           make_timestamp(day * 86400000000 + bounds.time_of_day + side) AS received
    FROM groups, bounds
),
aged AS (
    SELECT represented.*, date_diff('year', received, as_of) AS boundaries
    FROM represented
)
SELECT
    category::VARCHAR AS category,
    system,
    system_kind::VARCHAR AS system_kind,
    -- year boundaries crossed, less one when this year's anniversary is still ahead
    boundaries - CAST(received + to_years(boundaries) > as_of AS INTEGER) AS age_years,
    sum(items)::BIGINT AS items,
    coalesce(sum(items) FILTER (WHERE past_cap(received, $retention_years, as_of)), 0)::BIGINT AS past_cap,
    coalesce(sum(items) FILTER (WHERE expired), 0)::BIGINT AS past_grace
FROM aged
GROUP BY ALL
ORDER BY category, system, age_years
