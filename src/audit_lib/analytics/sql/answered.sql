-- Requests and complaints judged by DSR-01 / DSP-01: received before the end of
-- the period and open at some point of it. Days are exact (seconds / 86400).
SELECT 'request' AS source, kind::VARCHAR AS kind, request_id AS key, received_at,
       completed_at AS answered_at
FROM dsr_requests
WHERE received_at < $end AND (completed_at IS NULL OR completed_at >= $start)
UNION ALL
SELECT 'complaint', 'complaint', dispute_id, received_at, responded_at
FROM disputes
WHERE received_at < $end AND (responded_at IS NULL OR responded_at >= $start)
