-- Items open at as_of (no answer, or answered only at or after as_of), most
-- urgent first, with their deadline and the whole days left (negative: overdue).
WITH judged AS ({answered}),
open_items AS (
    SELECT *, CAST(due(received_at, $response_days) AS TIMESTAMPTZ) AS deadline
    FROM judged
    WHERE received_at < $as_of AND (answered_at IS NULL OR answered_at >= $as_of)
)
SELECT
    source, kind, key, received_at, deadline, answered_at,
    days_left(received_at, $response_days, $as_of) AS days_left,
    -- unanswered at as_of, whatever was stored later
    deadline_status(received_at, $response_days, NULL, $as_of) AS status,
    count(*) OVER () AS total_open
FROM open_items
ORDER BY days_left, key
LIMIT $limit
