-- Requests and complaints judged by DSR-01 / DSP-01: received before the end of
-- the period and open at some point of it (open_during, as the controls).
SELECT 'request' AS source, kind::VARCHAR AS kind, request_id AS key, received_at,
       completed_at AS answered_at
FROM dsr_requests
WHERE open_during(received_at, completed_at, $start, $end)
UNION ALL
SELECT 'complaint', 'complaint', dispute_id, received_at, responded_at
FROM disputes
WHERE open_during(received_at, responded_at, $start, $end)
