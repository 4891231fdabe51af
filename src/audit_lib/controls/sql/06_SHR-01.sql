/*
id: SHR-01
clause: "§4, §20"
title: Only authorized sub-processors render services
kind: event
key: disclosure_id
explanation: >
  Data disclosed to render services goes only to sub-processors on the
  published list at the moment of disclosure. A disclosure to a party of
  another kind, never listed, not yet listed, or listed no more (the day of
  authorized_until is already unlisted) is a violation.
details: [party_id, party, party_kind, category, disclosed_at, authorized_from, authorized_until]
breakdown: party
*/
SELECT
    d.disclosure_id AS key,
    d.customer_id,
    NOT authorized_at(p.kind, p.authorized_from, p.authorized_until, d.disclosed_at) AS breaks,
    NULL AS exemption,
    d.party_id,
    p.name AS party,
    p.kind AS party_kind,
    d.category,
    d.disclosed_at,
    p.authorized_from,
    p.authorized_until
FROM disclosures AS d
JOIN parties AS p USING (party_id)
WHERE d.disclosed_at >= $start AND d.disclosed_at < $end
  AND d.purpose = 'render_services'
