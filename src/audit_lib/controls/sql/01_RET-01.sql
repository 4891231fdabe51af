/*
id: RET-01
clause: "§8"
title: Ten-year cap on stored personal data
kind: state
key: item_id
explanation: >
  Personal data is kept no longer than retention_years years after the company
  received it. Every item stored at as_of is aged; an item older than the cap
  breaks the promise unless it lives in an access log or its customer is under
  an indefinite hold (terms-of-service breach or fraud).
exemptions:
  access_log: "§9 Access Logs: access logs are kept for security"
  indefinite_hold: "§9: a tos_breach or fraud hold active at as_of"
details: [category, system, system_kind, received_at, age_years]
breakdown: system
*/
SELECT
    p.item_id AS key,
    p.customer_id,
    past_cap(p.received_at, $retention_years, $as_of) AS breaks,
    CASE
        WHEN p.system_kind = 'access_log' THEN 'access_log'
        WHEN p.customer_id IN (SELECT customer_id FROM indefinitely_held_customers($as_of)) THEN 'indefinite_hold'
    END AS exemption,
    p.category,
    p.system,
    p.system_kind,
    p.received_at,
    whole_years(p.received_at, $as_of) AS age_years
FROM personal_data AS p
WHERE p.received_at < $as_of
