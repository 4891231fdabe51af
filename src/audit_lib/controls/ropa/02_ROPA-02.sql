/*
id: ROPA-02
clause: "Art. 30"
title: Recipients declared
kind: event
key: purpose/party_id
explanation: >
  Art. 30(1)(d): the record lists the recipients of each processing activity.
  Every party that received, in the period, a category of a customer's data
  processed for a purpose (disclosures joined to the customer's items on
  customer and category) is judged; one the declared RoPA names neither by its
  party id nor by its kind for that purpose is a discrepancy.
details: [purpose, party_id, party, party_kind, country, disclosures]
breakdown: purpose
*/
SELECT
    o.purpose || '/' || o.value AS key,
    NULL AS customer_id,
    NOT EXISTS (
        SELECT 1 FROM declared_recipients AS d
        WHERE d.purpose = o.purpose AND (d.party = o.value OR d.kind = o.kind)
    ) AS breaks,
    NULL AS exemption,
    o.purpose,
    o.value AS party_id,
    o.name AS party,
    o.kind AS party_kind,
    o.country,
    o.disclosures
FROM observed_ropa AS o
WHERE o.element = 'recipient'
