/*
id: DSP-01
clause: "§22"
title: Complaints answered within 30 days
kind: event
key: dispute_id
explanation: >
  Every complaint about the use of personal data gets a response within
  response_days days of its receipt. Judged: the complaints received before
  the end of the period that were unanswered at some point of it. A late
  response is a violation even when given after as_of; an unanswered complaint
  is a violation once its deadline has passed at as_of.
details: [state, received_at, deadline, responded_at, late_by_days, topic]
breakdown: state
personal: [topic]
*/
SELECT
    dispute_id AS key,
    customer_id,
    late(received_at, $response_days, responded_at, $as_of) AS breaks,
    NULL AS exemption,
    CASE WHEN responded_at IS NULL THEN 'unanswered' ELSE 'answered' END AS state,
    received_at,
    CAST(due(received_at, $response_days) AS TIMESTAMPTZ) AS deadline,
    responded_at,
    late_by_days(received_at, $response_days, responded_at, $as_of) AS late_by_days,
    topic
FROM disputes
WHERE open_during(received_at, responded_at, $start, $end)
