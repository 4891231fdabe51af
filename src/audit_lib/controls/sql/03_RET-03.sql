/*
id: RET-03
clause: "§7, §9"
title: Erasure requests carried out
kind: state
key: item_id
explanation: >
  When a deletion request has been fulfilled, the customer's data that existed
  when erasure was asked for is gone. An item still stored at as_of that was
  received before a fulfilled deletion request of its customer is a violation,
  unless it is kept for legal compliance, lives in an access log, or the
  customer is under an indefinite hold (terms-of-service breach or fraud).
exemptions:
  legal_retention: "§9: kept for legal compliance (purpose legal_compliance)"
  access_log: "§9 Access Logs: access logs are kept for security"
  indefinite_hold: "§9: a tos_breach or fraud hold active at as_of"
details: [category, system, system_kind, purpose, received_at, erasure_asked_at]
breakdown: system
*/
WITH erased AS (
    SELECT customer_id, max(received_at) AS last_asked_at FROM dsr_requests
    WHERE kind = 'deletion' AND outcome = 'fulfilled' AND completed_at < $as_of
    GROUP BY customer_id
)
SELECT
    p.item_id AS key,
    p.customer_id,
    p.received_at < e.last_asked_at AS breaks,
    CASE
        WHEN p.purpose = 'legal_compliance' THEN 'legal_retention'
        WHEN p.system_kind = 'access_log' THEN 'access_log'
        WHEN p.customer_id IN (SELECT customer_id FROM indefinitely_held_customers($as_of)) THEN 'indefinite_hold'
    END AS exemption,
    p.category,
    p.system,
    p.system_kind,
    p.purpose,
    p.received_at,
    e.last_asked_at AS erasure_asked_at
FROM personal_data AS p
JOIN erased AS e USING (customer_id)
WHERE p.received_at < $as_of
