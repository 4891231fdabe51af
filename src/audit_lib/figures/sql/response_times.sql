-- Response-time statistics per kind over answered items; open ones counted.
WITH judged AS ({answered}),
timed AS (
    SELECT *, date_diff('second', received_at, answered_at) / 86400.0 AS days,
           CAST(due(received_at, $response_days) AS TIMESTAMPTZ) AS deadline
    FROM judged
)
SELECT
    source, kind,
    count(*) AS items,
    count(answered_at) AS answered,
    median(days) AS median_days,
    quantile_cont(days, 0.9) AS p90_days,
    max(days) AS max_days,
    count(*) FILTER (WHERE answered_at IS NOT NULL AND late(received_at, $response_days, answered_at, $as_of))
        AS answered_late,
    count(*) FILTER (WHERE answered_at IS NULL OR answered_at >= $as_of) AS open_at_as_of,
    count(*) FILTER (WHERE (answered_at IS NULL OR answered_at >= $as_of) AND deadline < $as_of)
        AS overdue_at_as_of
FROM timed
GROUP BY ALL
ORDER BY source DESC, kind
