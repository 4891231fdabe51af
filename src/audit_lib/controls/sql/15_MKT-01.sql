/*
id: MKT-01
clause: "§3, §10"
title: EU customers opted in to marketing
kind: event
key: message_id
explanation: >
  Customers in the EU receive newsletters and promotions only after opting in.
  A marketing message to an EU customer with no marketing opt-in active when
  it was sent is a violation, on every channel.
*/
SELECT
    m.message_id AS key,
    m.customer_id,
    NOT EXISTS (
        SELECT 1 FROM consents AS k
        WHERE k.customer_id = m.customer_id
          AND k.kind = 'marketing_opt_in'
          AND active_at(k.given_at, k.withdrawn_at, m.sent_at)
    ) AS breaks,
    NULL AS exemption
FROM communications AS m
JOIN customers AS c USING (customer_id)
WHERE m.sent_at >= $start AND m.sent_at < $end
  AND m.kind IN ('newsletter', 'promotion')
  AND in_eu(c.country)
