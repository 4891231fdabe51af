/*
id: ROPA-04
clause: "Art. 30"
title: Retention within the declared period
kind: state
key: purpose
explanation: >
  Art. 30(1)(f): the record states the time limits for erasure. Every purpose
  whose declared RoPA entry gives retention_years is judged over its items
  stored at as_of; one holding an item received more than that many years
  before as_of (the calendar rule of RET-01) is a discrepancy.
details: [declared_years, oldest_received_at, oldest_age_years, items, items_beyond]
*/
SELECT
    d.purpose AS key,
    NULL AS customer_id,
    count(*) FILTER (WHERE past_cap(p.received_at, d.retention_years, $as_of)) > 0 AS breaks,
    NULL AS exemption,
    d.retention_years AS declared_years,
    min(p.received_at) AS oldest_received_at,
    whole_years(min(p.received_at), $as_of) AS oldest_age_years,
    count(*) AS items,
    count(*) FILTER (WHERE past_cap(p.received_at, d.retention_years, $as_of)) AS items_beyond
FROM declared_activities AS d
JOIN personal_data AS p ON p.purpose::VARCHAR = d.purpose
WHERE d.retention_years IS NOT NULL
  AND p.received_at < $as_of
GROUP BY d.purpose, d.retention_years
