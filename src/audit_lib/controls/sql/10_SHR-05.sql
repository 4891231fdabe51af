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
details: [party_id, party, disclosed_at, deadline, customer_notified_at, late_by_days]
breakdown: party
*/
SELECT
    d.disclosure_id AS key,
    d.customer_id,
    late(d.disclosed_at, $notice_days, d.customer_notified_at, $as_of) AS breaks,
    NULL AS exemption,
    d.party_id,
    p.name AS party,
    d.disclosed_at,
    CAST(due(d.disclosed_at, $notice_days) AS TIMESTAMPTZ) AS deadline,
    d.customer_notified_at,
    late_by_days(d.disclosed_at, $notice_days, d.customer_notified_at, $as_of) AS late_by_days
FROM disclosures AS d
JOIN parties AS p USING (party_id)
WHERE d.disclosed_at >= $start AND d.disclosed_at < $end
  AND d.purpose = 'legal_requirement'
  AND d.customer_id IS NOT NULL
  AND NOT d.notification_prohibited
