/*
id: ROPA-01
clause: "Art. 30"
title: Categories of personal data declared
kind: state
key: purpose/category
explanation: >
  Art. 30(1)(c): the record of processing lists the categories of personal data
  of each processing activity. Every category stored at as_of for a purpose
  (the observed RoPA) is judged; one the declared RoPA does not list for that
  purpose, or a purpose it does not declare at all, is a discrepancy.
details: [purpose, category, items, customers, purpose_declared]
breakdown: purpose
*/
SELECT
    o.purpose || '/' || o.value AS key,
    NULL AS customer_id,
    NOT EXISTS (
        SELECT 1 FROM declared_categories AS d WHERE d.purpose = o.purpose AND d.category = o.value
    ) AS breaks,
    NULL AS exemption,
    o.purpose,
    o.value AS category,
    o.items,
    o.customers,
    o.purpose IN (SELECT purpose FROM declared_activities) AS purpose_declared
FROM observed_ropa AS o
WHERE o.element = 'category'
