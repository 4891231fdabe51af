-- The record of processing activities (GDPR Art. 30(1)) as the snapshot shows
-- it: one row per processing activity (personal_data.purpose, policy §3),
-- Art. 30 element and value. Art. 30(1)(a), the controller, is not in the
-- data; the run adds it from the declared RoPA file.
--
-- Items are the state items (received_at < as_of), as the state controls
-- judge them. Data subjects are the customers those items are about, by
-- account_status, and "children": customers under min_age at as_of
-- (birth_date as 00:00:00Z + min_age years > as_of, as AGE-01 counts years).
--
-- Recipients of an activity: the parties that received, in the period
-- [start, end), a category of a customer's data that is processed for that
-- purpose. A disclosure is joined to the customer's state items on
-- customer_id AND category; it counts once for every purpose such an item has
-- (a disclosure of an email processed for registration and for marketing is a
-- recipient of both). When the item was received is not compared with when it
-- was disclosed: the snapshot holds the items stored now, not those of the
-- day of disclosure. Aggregate disclosures (customer_id NULL) and disclosures
-- of a category the customer has no item of are attributed to no activity.
-- A third country is a recipient's country outside the EEA (GDPR Chapter V);
-- its safeguard is the party's transfer_safeguard ('missing' when NULL).
--
-- Each distinct count is a row count of one grouping, made once: `subjects`
-- (one row per activity and data subject) and `systems` (and system); the
-- elements sum their items. A subject's categories are a bit mask (bit
-- enum_code(category) of a UBIGINT: the contract's category enum has fewer
-- than 64 values), so the customers of a category are counted from the few
-- distinct masks of an activity, not from a third grouping of the items.
-- A disclosure's activities are the distinct purposes of the items it joins.
-- Every item's customer is in customers (the snapshot's references hold), so
-- only `subjects`, one row per customer and activity, is joined to customers.
WITH items AS (
    SELECT purpose, customer_id, category, system, system_kind, received_at, encrypted,
           past_cap(received_at, $retention_years, $as_of) AS past_cap
    FROM personal_data
    WHERE received_at < $as_of
),
subjects AS (
    SELECT s.*, c.account_status,
           c.birth_date IS NOT NULL AND CAST(c.birth_date AS TIMESTAMP) + to_years($min_age) > utc($as_of)
               AS child
    FROM (SELECT purpose, customer_id, count(*) AS items, min(received_at) AS oldest,
                 count(*) FILTER (WHERE past_cap) AS past_cap, count(*) FILTER (WHERE encrypted) AS encrypted,
                 bit_or(1::UBIGINT << enum_code(category)) AS categories
          FROM items GROUP BY purpose, customer_id) AS s
    JOIN customers AS c USING (customer_id)
),
category_items AS (
    SELECT purpose, category, count(*) AS items FROM items GROUP BY purpose, category
),
category_customers AS (  -- per activity and category: items, and the subjects whose mask has it
    SELECT c.purpose, c.category, any_value(c.items) AS items, sum(m.customers) AS customers
    FROM category_items AS c
    JOIN (SELECT purpose, categories, count(*) AS customers FROM subjects GROUP BY purpose, categories) AS m
      ON m.purpose = c.purpose AND m.categories & (1::UBIGINT << enum_code(c.category)) <> 0
    GROUP BY c.purpose, c.category
),
systems AS (
    SELECT purpose, system, system_kind, sum(items) AS items, count(*) AS customers
    FROM (SELECT purpose, system, system_kind, customer_id, count(*) AS items
          FROM items GROUP BY purpose, system, system_kind, customer_id)
    GROUP BY purpose, system, system_kind
),
received AS (
    SELECT DISTINCT
        i.purpose, d.disclosure_id, d.customer_id, d.encrypted_in_transit,
        pa.party_id, pa.name, pa.kind::VARCHAR AS kind, pa.country,
        CASE WHEN in_eea(pa.country) THEN 'not needed (EEA)'
             ELSE coalesce(pa.transfer_safeguard::VARCHAR, 'missing') END AS safeguard
    FROM disclosures AS d
    JOIN parties AS pa USING (party_id)
    JOIN items AS i ON i.customer_id = d.customer_id AND i.category = d.category
    WHERE d.disclosed_at >= $start AND d.disclosed_at < $end
),
activities AS (
    SELECT purpose, sum(items) AS items, count(*) AS customers, min(oldest) AS oldest,
           sum(past_cap) AS past_cap_items, count(*) FILTER (WHERE past_cap > 0) AS past_cap_customers,
           sum(encrypted) AS encrypted_items
    FROM subjects GROUP BY purpose
),
ropa AS (
    SELECT purpose, '30(1)(b)' AS article, 1 AS element_order, 'purpose' AS element,
           purpose::VARCHAR AS value, NULL AS name, NULL AS kind, NULL AS country, NULL AS safeguard,
           items, customers, NULL::BIGINT AS disclosures, NULL::DOUBLE AS share
    FROM activities
    UNION ALL
    SELECT purpose, '30(1)(c)', 2, 'data_subjects', account_status::VARCHAR, NULL, NULL, NULL, NULL,
           sum(items), count(*), NULL, NULL
    FROM subjects GROUP BY purpose, account_status
    UNION ALL
    SELECT purpose, '30(1)(c)', 2, 'data_subjects', 'children', NULL, NULL, NULL, NULL,
           sum(items), count(*), NULL, NULL
    FROM subjects WHERE child GROUP BY purpose
    UNION ALL
    SELECT purpose, '30(1)(c)', 3, 'category', category::VARCHAR, NULL, NULL, NULL, NULL,
           items, customers, NULL, NULL
    FROM category_customers
    UNION ALL
    SELECT purpose, 'systems', 4, 'system', system, NULL, system_kind::VARCHAR, NULL, NULL,
           items, customers, NULL, NULL
    FROM systems
    UNION ALL
    SELECT purpose, '30(1)(d)', 5, 'recipient', party_id, name, kind, country, safeguard,
           NULL, count(DISTINCT customer_id), count(DISTINCT disclosure_id), NULL
    FROM received GROUP BY purpose, party_id, name, kind, country, safeguard
    UNION ALL
    SELECT purpose, '30(1)(d)', 6, 'recipient_kind', kind, NULL, NULL, NULL, NULL,
           NULL, count(DISTINCT customer_id), count(DISTINCT disclosure_id), NULL
    FROM received GROUP BY purpose, kind
    UNION ALL
    SELECT purpose, '30(1)(e)', 7, 'third_country', country,
           string_agg(DISTINCT party_id, ', ' ORDER BY party_id), NULL, country,
           string_agg(DISTINCT safeguard, ', ' ORDER BY safeguard),
           NULL, count(DISTINCT customer_id), count(DISTINCT disclosure_id), NULL
    FROM received WHERE NOT in_eea(country) GROUP BY purpose, country
    UNION ALL
    SELECT purpose, '30(1)(f)', 8, 'oldest_item', strftime(utc(oldest), '%Y-%m-%dT%H:%M:%SZ'),
           whole_years(oldest, $as_of)::VARCHAR || ' years old at as_of', NULL, NULL, NULL,
           items, customers, NULL, NULL
    FROM activities
    UNION ALL
    SELECT purpose, '30(1)(f)', 9, 'past_cap', $retention_years::VARCHAR || ' years',
           'RET-01 rule, before exemptions',
           NULL, NULL, NULL, past_cap_items, past_cap_customers, NULL, past_cap_items / items
    FROM activities
    UNION ALL
    SELECT purpose, '30(1)(g)', 10, 'encrypted_at_rest', 'items encrypted at rest', NULL, NULL, NULL, NULL,
           encrypted_items, NULL, NULL, encrypted_items / items
    FROM activities
    UNION ALL
    SELECT a.purpose, '30(1)(g)', 11, 'encrypted_in_transit', 'disclosures encrypted in transit',
           NULL, NULL, NULL, NULL, NULL, NULL,
           count(DISTINCT r.disclosure_id) FILTER (WHERE r.encrypted_in_transit),
           count(DISTINCT r.disclosure_id) FILTER (WHERE r.encrypted_in_transit)
               / nullif(count(DISTINCT r.disclosure_id), 0)
    FROM activities AS a
    LEFT JOIN received AS r USING (purpose)
    GROUP BY a.purpose
)
SELECT purpose::VARCHAR AS purpose, article, element, value, name, kind, country, safeguard,
       items::BIGINT AS items, customers::BIGINT AS customers, disclosures::BIGINT AS disclosures,
       share::DOUBLE AS share
FROM ropa
ORDER BY ropa.purpose, element_order, value, kind  -- one system may be of two kinds
