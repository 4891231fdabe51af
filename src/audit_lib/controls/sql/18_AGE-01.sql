/*
id: AGE-01
clause: "§14"
title: No data about children under 13
kind: state
key: customer_id
explanation: >
  The company does not knowingly keep personal data received about a child
  under min_age. A customer with a birth date is a violation when any item
  stored at as_of was received before their min_age birthday (someone born on
  29 February comes of age on 28 February in a common year).
details: [country, birth_date, first_received_at, came_of_age_at]
breakdown: country
personal: [birth_date]
*/
SELECT
    c.customer_id AS key,
    c.customer_id,
    utc(min(p.received_at)) < c.birth_date + to_years($min_age) AS breaks,
    NULL AS exemption,
    c.country,
    c.birth_date,
    min(p.received_at) AS first_received_at,
    CAST(c.birth_date + to_years($min_age) AS TIMESTAMPTZ) AS came_of_age_at
FROM customers AS c
JOIN personal_data AS p USING (customer_id)
WHERE p.received_at < $as_of
  AND c.birth_date IS NOT NULL
GROUP BY c.customer_id, c.birth_date, c.country
