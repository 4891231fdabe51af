/*
id: RET-02
clause: "§8"
title: Data of deactivated accounts deleted after a reasonable period
kind: state
key: item_id
explanation: >
  Once an account is deactivated or cancelled, its personal data is deleted
  within grace_days days. Every item still stored at as_of for a customer
  deactivated more than grace_days days before is a violation, unless it is
  kept for legal compliance, lives in an access log, or the customer is under
  a hold active at as_of.
exemptions:
  legal_retention: "§9: kept for legal compliance (purpose legal_compliance)"
  access_log: "§9 Access Logs: access logs are kept for security"
  hold: "§9: any legal hold active at as_of"
details: [category, system, system_kind, purpose, received_at, deactivated_at]
breakdown: system
*/
SELECT
    p.item_id AS key,
    p.customer_id,
    true AS breaks,
    CASE
        WHEN p.purpose = 'legal_compliance' THEN 'legal_retention'
        WHEN p.system_kind = 'access_log' THEN 'access_log'
        WHEN p.customer_id IN (SELECT customer_id FROM held_customers($as_of)) THEN 'hold'
    END AS exemption,
    p.category,
    p.system,
    p.system_kind,
    p.purpose,
    p.received_at,
    (SELECT deactivated_at FROM customers AS c WHERE c.customer_id = p.customer_id) AS deactivated_at
FROM personal_data AS p
WHERE p.received_at < $as_of
  AND p.customer_id IN (SELECT customer_id FROM expired_accounts($as_of, $grace_days))
