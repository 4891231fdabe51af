/*
id: SHR-06
clause: "§6"
title: Limit-sharing notices honored
kind: event
key: disclosure_id
explanation: >
  A customer who has asked to limit sharing has data disclosed only to render
  services, for a legal requirement or after a terms-of-service breach. A
  disclosure with any other purpose while such a notice is active is a
  violation.
details: [party_id, party, purpose, disclosed_at]
breakdown: purpose
*/
SELECT
    d.disclosure_id AS key,
    d.customer_id,
    NOT limited_sharing_purpose(d.purpose) AS breaks,
    NULL AS exemption,
    d.party_id,
    p.name AS party,
    d.purpose,
    d.disclosed_at
FROM disclosures AS d
JOIN parties AS p USING (party_id)
WHERE d.disclosed_at >= $start AND d.disclosed_at < $end
  AND consent_active(d.customer_id, 'limit_sharing', d.disclosed_at)
