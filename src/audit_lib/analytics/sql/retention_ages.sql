-- State items (received_at < as_of) aged at as_of in whole calendar years,
-- grouped finely enough to derive the by-category and by-system views.
-- past_cap and past_grace count the items RET-01 and RET-02 judge as breaking
-- their rule, before exemptions.
WITH items AS (
    SELECT p.category, p.system, p.system_kind, p.received_at,
           c.account_status, c.deactivated_at,
           date_diff('year', p.received_at, $as_of) AS boundaries
    FROM personal_data AS p
    JOIN customers AS c USING (customer_id)
    WHERE p.received_at < $as_of
)
SELECT
    category::VARCHAR AS category,
    system,
    system_kind::VARCHAR AS system_kind,
    -- year boundaries crossed, minus one when the last anniversary is still ahead
    CASE WHEN received_at + to_years(boundaries) > $as_of THEN boundaries - 1 ELSE boundaries END
        AS age_years,
    count(*) AS items,
    count(*) FILTER (WHERE received_at + to_years($retention_years) < $as_of) AS past_cap,
    count(*) FILTER (
        WHERE account_status IN ('deactivated', 'cancelled')
          AND deactivated_at + to_days($grace_days) < $as_of
    ) AS past_grace
FROM items
GROUP BY ALL
ORDER BY category, system, age_years
