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
*/
SELECT
    disclosure_id AS key,
    customer_id,
    NOT anonymized OR customer_id IS NOT NULL AS breaks,
    NULL AS exemption
FROM disclosures
WHERE disclosed_at >= $start AND disclosed_at < $end
  AND purpose = 'aggregate'
