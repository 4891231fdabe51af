/*
id: DSR-01
clause: "§7, §9, §14"
title: Data-subject requests answered within 30 days
kind: event
key: request_id
explanation: >
  Every request to access, rectify, delete, restrict or remove a child's data
  is completed within response_days days of its receipt. Judged: the requests
  received before the end of the period that were open at some point of it. A
  request completed late is a violation even when completed after as_of; an
  open request is a violation once its deadline has passed at as_of.
details: [kind, received_at, deadline, completed_at, request_outcome, late_by_days]
breakdown: kind
*/
SELECT
    request_id AS key,
    customer_id,
    late(received_at, $response_days, completed_at, $as_of) AS breaks,
    NULL AS exemption,
    kind,
    received_at,
    CAST(due(received_at, $response_days) AS TIMESTAMPTZ) AS deadline,
    completed_at,
    outcome AS request_outcome,
    late_by_days(received_at, $response_days, completed_at, $as_of) AS late_by_days
FROM dsr_requests
WHERE open_during(received_at, completed_at, $start, $end)
