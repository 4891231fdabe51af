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
details: [kind, channel, sent_at, customer_country]
breakdown: channel
*/
SELECT
    m.message_id AS key,
    m.customer_id,
    NOT consent_active(m.customer_id, 'marketing_opt_in', m.sent_at) AS breaks,
    NULL AS exemption,
    m.kind,
    m.channel,
    m.sent_at,
    c.country AS customer_country
FROM communications AS m
JOIN customers AS c USING (customer_id)
WHERE m.sent_at >= $start AND m.sent_at < $end
  AND marketing_message(m.kind)
  AND in_eu(c.country)
