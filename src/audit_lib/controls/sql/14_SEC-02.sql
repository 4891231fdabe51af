/*
id: SEC-02
clause: "§17"
title: Disclosures encrypted in transit
kind: event
key: disclosure_id
explanation: >
  Personal data sent to third parties travels encrypted. A disclosure in the
  period not encrypted in transit is a violation.
details: [party_id, party, category, disclosed_at]
breakdown: party
*/
SELECT
    d.disclosure_id AS key,
    d.customer_id,
    NOT d.encrypted_in_transit AS breaks,
    NULL AS exemption,
    d.party_id,
    p.name AS party,
    d.category,
    d.disclosed_at
FROM disclosures AS d
JOIN parties AS p USING (party_id)
WHERE d.disclosed_at >= $start AND d.disclosed_at < $end
