/*
id: XFR-01
clause: "§16"
title: Transfers out of the EEA are safeguarded
kind: event
key: disclosure_id
explanation: >
  Data of customers in the EU leaves the European Economic Area only under a
  transfer safeguard (adequacy decision, standard contractual clauses or
  binding corporate rules). A disclosure of an EU customer's data to a party
  outside the EEA without one is a violation, anonymized or not.
details: [party_id, party, party_country, customer_country, safeguard, disclosed_at]
breakdown: party
*/
SELECT
    d.disclosure_id AS key,
    d.customer_id,
    p.transfer_safeguard IS NULL OR p.transfer_safeguard = 'none' AS breaks,
    NULL AS exemption,
    d.party_id,
    p.name AS party,
    p.country AS party_country,
    c.country AS customer_country,
    coalesce(p.transfer_safeguard::VARCHAR, 'missing') AS safeguard,
    d.disclosed_at
FROM disclosures AS d
JOIN parties AS p USING (party_id)
JOIN customers AS c USING (customer_id)
WHERE d.disclosed_at >= $start AND d.disclosed_at < $end
  AND in_eu(c.country)
  AND NOT in_eea(p.country)
