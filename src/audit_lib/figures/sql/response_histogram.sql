-- Answered items per kind in bins of $bin_days days of response time.
WITH judged AS ({answered})
SELECT
    kind,
    CAST(floor(date_diff('second', received_at, answered_at) / 86400.0 / $bin_days) AS INTEGER) * $bin_days
        AS days_from,
    count(*) AS items
FROM judged
WHERE answered_at IS NOT NULL
GROUP BY ALL
ORDER BY kind, days_from
