/*
id: SEC-01
clause: "§17"
title: Card and financial data encrypted at rest
kind: state
key: item_id
explanation: >
  Credit-card and other financial data is stored encrypted. Every card or
  financial item stored at as_of that is not encrypted is a violation.
details: [category, system, system_kind, received_at]
breakdown: system
*/
SELECT
    item_id AS key,
    customer_id,
    NOT encrypted AS breaks,
    NULL AS exemption,
    category,
    system,
    system_kind,
    received_at
FROM personal_data
WHERE received_at < $as_of
  AND category IN ('card', 'financial')
