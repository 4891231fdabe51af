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
*/
SELECT
    d.disclosure_id AS key,
    d.customer_id,
    d.purpose NOT IN ('render_services', 'legal_requirement', 'tos_breach') AS breaks,
    NULL AS exemption
FROM disclosures AS d
WHERE d.disclosed_at >= $start AND d.disclosed_at < $end
  AND EXISTS (
      SELECT 1 FROM consents AS c
      WHERE c.customer_id = d.customer_id
        AND c.kind = 'limit_sharing'
        AND active_at(c.given_at, c.withdrawn_at, d.disclosed_at)
  )
