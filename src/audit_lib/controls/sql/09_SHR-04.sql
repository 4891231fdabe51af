/*
id: SHR-04
clause: "§4"
title: Aggregate data is anonymized
kind: event
key: disclosure_id
explanation: >
  Data shared as aggregate statistics carries no personal identity. An
  aggregate disclosure that is not anonymized, or that is tied to a customer,
  is a violation.
details: [party_id, party, anonymized, disclosed_at]
breakdown: party
*/
SELECT
    d.disclosure_id AS key,
    d.customer_id,
    NOT d.anonymized OR d.customer_id IS NOT NULL AS breaks,
    NULL AS exemption,
    d.party_id,
    p.name AS party,
    d.anonymized,
    d.disclosed_at
FROM disclosures AS d
JOIN parties AS p USING (party_id)
WHERE d.disclosed_at >= $start AND d.disclosed_at < $end
  AND d.purpose = 'aggregate'
