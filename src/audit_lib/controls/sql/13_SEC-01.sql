/*
id: SEC-01
clause: "§17"
title: Card and financial data encrypted at rest
kind: state
key: item_id
explanation: >
  Credit-card and other financial data is stored encrypted. Every card or
  financial item stored at as_of that is not encrypted is a violation.
*/
SELECT
    item_id AS key,
    customer_id,
    NOT encrypted AS breaks,
    NULL AS exemption
FROM personal_data
WHERE received_at < $as_of
  AND category IN ('card', 'financial')
