/*
id: SHR-02
clause: "§4, §17"
title: Recipients bound to equal protection
kind: event
key: disclosure_id
explanation: >
  Sub-processors and acquirers receive personal data only under a signed
  data-processing or confidentiality agreement with at least the policy's
  level of protection. A disclosure to render services or in a business
  transition is a violation when the party's agreement took effect after the
  day of disclosure, or never.
details: [party_id, party, party_kind, purpose, disclosed_at, dpa_signed_at]
breakdown: party
*/
SELECT
    d.disclosure_id AS key,
    d.customer_id,
    NOT bound_at(p.dpa_signed_at, d.disclosed_at) AS breaks,
    NULL AS exemption,
    d.party_id,
    p.name AS party,
    p.kind AS party_kind,
    d.purpose,
    d.disclosed_at,
    p.dpa_signed_at
FROM disclosures AS d
JOIN parties AS p USING (party_id)
WHERE d.disclosed_at >= $start AND d.disclosed_at < $end
  AND d.purpose IN ('render_services', 'business_transition')
