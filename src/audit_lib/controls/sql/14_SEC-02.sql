/*
id: SEC-02
clause: "§17"
title: Disclosures encrypted in transit
kind: event
key: disclosure_id
explanation: >
  Personal data sent to third parties travels encrypted. A disclosure in the
  period not encrypted in transit is a violation.
*/
SELECT
    disclosure_id AS key,
    customer_id,
    NOT encrypted_in_transit AS breaks,
    NULL AS exemption
FROM disclosures
WHERE disclosed_at >= $start AND disclosed_at < $end
