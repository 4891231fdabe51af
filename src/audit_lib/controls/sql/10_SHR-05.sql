/*
id: SHR-05
clause: "§4"
title: Customers told of legal disclosures
kind: event
key: disclosure_id
explanation: >
  When the law requires a disclosure about a customer, the company takes
  reasonable steps to tell the customer within notice_days days, unless the
  law forbids it (those disclosures are not judged). A notice given late, or
  none by the deadline at as_of, is a violation.
*/
SELECT
    disclosure_id AS key,
    customer_id,
    late(disclosed_at, $notice_days, customer_notified_at, $as_of) AS breaks,
    NULL AS exemption
FROM disclosures
WHERE disclosed_at >= $start AND disclosed_at < $end
  AND purpose = 'legal_requirement'
  AND customer_id IS NOT NULL
  AND NOT notification_prohibited
