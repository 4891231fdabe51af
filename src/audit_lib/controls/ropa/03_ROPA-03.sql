/*
id: ROPA-03
clause: "Art. 30"
title: Third countries declared
kind: event
key: purpose/country
explanation: >
  Art. 30(1)(d) and (e): the record names the third countries personal data is
  transferred to. Every country outside the EEA where a recipient of a purpose
  processed data received in the period is judged; one the declared RoPA does
  not list among that purpose's third countries is a discrepancy.
details: [purpose, country, parties, safeguards, disclosures]
breakdown: purpose
*/
SELECT
    o.purpose || '/' || o.value AS key,
    NULL AS customer_id,
    NOT EXISTS (
        SELECT 1 FROM declared_countries AS d WHERE d.purpose = o.purpose AND d.country = o.value
    ) AS breaks,
    NULL AS exemption,
    o.purpose,
    o.value AS country,
    o.name AS parties,
    o.safeguard AS safeguards,
    o.disclosures
FROM observed_ropa AS o
WHERE o.element = 'third_country'
