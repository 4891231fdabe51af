/*
id: SHR-03
clause: "§4"
title: Data shared only for the purposes the policy lists
kind: event
key: disclosure_id
explanation: >
  The policy permits disclosure to render services, for a legal requirement,
  after a terms-of-service breach, as aggregate data, or in a business
  transition. A disclosure stating any other purpose is a violation.
details: [party_id, party, purpose, category, disclosed_at]
breakdown: purpose
*/
SELECT
    d.disclosure_id AS key,
    d.customer_id,
    NOT permitted_purpose(d.purpose) AS breaks,
    NULL AS exemption,
    d.party_id,
    p.name AS party,
    d.purpose,
    d.category,
    d.disclosed_at
FROM disclosures AS d
JOIN parties AS p USING (party_id)
WHERE d.disclosed_at >= $start AND d.disclosed_at < $end
