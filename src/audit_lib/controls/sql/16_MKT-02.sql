/*
id: MKT-02
clause: "§10"
title: Marketing opt-outs honored
kind: event
key: message_id
explanation: >
  A customer who opted out of marketing receives no newsletter or promotion.
  A marketing message sent while an opt-out of its customer was active is a
  violation, whatever later or earlier opt-ins say.
details: [kind, channel, sent_at]
breakdown: channel
*/
SELECT
    m.message_id AS key,
    m.customer_id,
    consent_active(m.customer_id, 'marketing_opt_out', m.sent_at) AS breaks,
    NULL AS exemption,
    m.kind,
    m.channel,
    m.sent_at
FROM communications AS m
WHERE m.sent_at >= $start AND m.sent_at < $end
  AND marketing_message(m.kind)
