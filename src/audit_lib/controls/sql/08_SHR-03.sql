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
*/
SELECT
    disclosure_id AS key,
    customer_id,
    NOT permitted_purpose(purpose) AS breaks,
    NULL AS exemption
FROM disclosures
WHERE disclosed_at >= $start AND disclosed_at < $end
