-- The evaluation floor: the 18 controls of controls.md (version 1), each
-- written once by hand as one plain DuckDB query over the snapshot's tables,
-- independent of the suite's own SQL (no macros, no shared views).
--
-- Each query returns one row: population, violations, exceptions (the triple
-- the suite reports), then violation_keys (the keys of the violations) and
-- exception_keys (key and exemption name of each exception), fetched into
-- Python by bench/floors.py. Parameters are DuckDB named parameters bound
-- from the plan: $start, $end, $as_of (TIMESTAMPTZ) and $retention_years,
-- $grace_days, $response_days, $notice_days, $min_age (whole numbers). The
-- session runs with TimeZone = 'UTC', so calendar arithmetic, dates as
-- 00:00:00Z and "the date of" a timestamp are all UTC.
--
-- A section starts at a line `-- control: ID`; comments inside a query name
-- no parameters (floors.py binds the $names it finds in the text).

-- control: RET-01
WITH indefinite_hold AS (
    SELECT DISTINCT customer_id
    FROM legal_holds
    WHERE reason IN ('tos_breach', 'fraud')
      AND placed_at <= $as_of
      AND (released_at IS NULL OR released_at > $as_of)
),
items AS (
    SELECT pd.item_id,
           pd.received_at + to_years($retention_years) < $as_of AS too_old,
           CASE
               WHEN pd.system_kind = 'access_log' THEN 'access_log'
               WHEN ih.customer_id IS NOT NULL THEN 'indefinite_hold'
           END AS exemption
    FROM personal_data pd
    LEFT JOIN indefinite_hold ih ON ih.customer_id = pd.customer_id
    WHERE pd.received_at < $as_of
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE too_old AND exemption IS NULL) AS violations,
       count(*) FILTER (WHERE too_old AND exemption IS NOT NULL) AS exceptions,
       list(item_id) FILTER (WHERE too_old AND exemption IS NULL) AS violation_keys,
       list({'key': item_id, 'exemption': exemption}) FILTER (WHERE too_old AND exemption IS NOT NULL)
           AS exception_keys
FROM items;

-- control: RET-02
WITH past_grace AS (
    SELECT customer_id
    FROM customers
    WHERE account_status IN ('deactivated', 'cancelled')
      AND deactivated_at + to_days($grace_days) < $as_of
),
any_hold AS (
    SELECT DISTINCT customer_id
    FROM legal_holds
    WHERE placed_at <= $as_of
      AND (released_at IS NULL OR released_at > $as_of)
),
items AS (
    SELECT pd.item_id,
           CASE
               WHEN pd.purpose = 'legal_compliance' THEN 'legal_retention'
               WHEN pd.system_kind = 'access_log' THEN 'access_log'
               WHEN ah.customer_id IS NOT NULL THEN 'hold'
           END AS exemption
    FROM personal_data pd
    JOIN past_grace pg ON pg.customer_id = pd.customer_id
    LEFT JOIN any_hold ah ON ah.customer_id = pd.customer_id
    WHERE pd.received_at < $as_of
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE exemption IS NULL) AS violations,
       count(*) FILTER (WHERE exemption IS NOT NULL) AS exceptions,
       list(item_id) FILTER (WHERE exemption IS NULL) AS violation_keys,
       list({'key': item_id, 'exemption': exemption}) FILTER (WHERE exemption IS NOT NULL) AS exception_keys
FROM items;

-- control: RET-03
WITH erased AS (
    SELECT customer_id, max(received_at) AS last_asked
    FROM dsr_requests
    WHERE kind = 'deletion'
      AND outcome = 'fulfilled'
      AND completed_at < $as_of
    GROUP BY customer_id
),
indefinite_hold AS (
    SELECT DISTINCT customer_id
    FROM legal_holds
    WHERE reason IN ('tos_breach', 'fraud')
      AND placed_at <= $as_of
      AND (released_at IS NULL OR released_at > $as_of)
),
items AS (
    SELECT pd.item_id,
           pd.received_at < e.last_asked AS still_stored,
           CASE
               WHEN pd.purpose = 'legal_compliance' THEN 'legal_retention'
               WHEN pd.system_kind = 'access_log' THEN 'access_log'
               WHEN ih.customer_id IS NOT NULL THEN 'indefinite_hold'
           END AS exemption
    FROM personal_data pd
    JOIN erased e ON e.customer_id = pd.customer_id
    LEFT JOIN indefinite_hold ih ON ih.customer_id = pd.customer_id
    WHERE pd.received_at < $as_of
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE still_stored AND exemption IS NULL) AS violations,
       count(*) FILTER (WHERE still_stored AND exemption IS NOT NULL) AS exceptions,
       list(item_id) FILTER (WHERE still_stored AND exemption IS NULL) AS violation_keys,
       list({'key': item_id, 'exemption': exemption}) FILTER (WHERE still_stored AND exemption IS NOT NULL)
           AS exception_keys
FROM items;

-- control: DSR-01
WITH requests AS (
    SELECT request_id,
           CASE
               WHEN completed_at IS NOT NULL THEN completed_at > received_at + to_days($response_days)
               ELSE received_at + to_days($response_days) < $as_of
           END AS late
    FROM dsr_requests
    WHERE received_at < $end
      AND (completed_at IS NULL OR completed_at >= $start)
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE late) AS violations,
       0 AS exceptions,
       list(request_id) FILTER (WHERE late) AS violation_keys,
       [] AS exception_keys
FROM requests;

-- control: DSP-01
WITH complaints AS (
    SELECT dispute_id,
           CASE
               WHEN responded_at IS NOT NULL THEN responded_at > received_at + to_days($response_days)
               ELSE received_at + to_days($response_days) < $as_of
           END AS late
    FROM disputes
    WHERE received_at < $end
      AND (responded_at IS NULL OR responded_at >= $start)
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE late) AS violations,
       0 AS exceptions,
       list(dispute_id) FILTER (WHERE late) AS violation_keys,
       [] AS exception_keys
FROM complaints;

-- control: SHR-01
WITH rendered AS (
    SELECT d.disclosure_id,
           p.kind <> 'sub_processor'
           OR p.authorized_from IS NULL
           OR p.authorized_from::TIMESTAMPTZ > d.disclosed_at
           OR (p.authorized_until IS NOT NULL AND p.authorized_until::TIMESTAMPTZ <= d.disclosed_at) AS unauthorized
    FROM disclosures d
    JOIN parties p ON p.party_id = d.party_id
    WHERE d.disclosed_at >= $start AND d.disclosed_at < $end
      AND d.purpose = 'render_services'
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE unauthorized) AS violations,
       0 AS exceptions,
       list(disclosure_id) FILTER (WHERE unauthorized) AS violation_keys,
       [] AS exception_keys
FROM rendered;

-- control: SHR-02
WITH shared AS (
    SELECT d.disclosure_id,
           p.dpa_signed_at IS NULL OR p.dpa_signed_at > d.disclosed_at::DATE AS unbound
    FROM disclosures d
    JOIN parties p ON p.party_id = d.party_id
    WHERE d.disclosed_at >= $start AND d.disclosed_at < $end
      AND d.purpose IN ('render_services', 'business_transition')
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE unbound) AS violations,
       0 AS exceptions,
       list(disclosure_id) FILTER (WHERE unbound) AS violation_keys,
       [] AS exception_keys
FROM shared;

-- control: SHR-03
WITH shared AS (
    SELECT disclosure_id,
           purpose NOT IN ('render_services', 'legal_requirement', 'tos_breach', 'aggregate', 'business_transition')
               AS unlisted
    FROM disclosures
    WHERE disclosed_at >= $start AND disclosed_at < $end
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE unlisted) AS violations,
       0 AS exceptions,
       list(disclosure_id) FILTER (WHERE unlisted) AS violation_keys,
       [] AS exception_keys
FROM shared;

-- control: SHR-04
WITH aggregates AS (
    SELECT disclosure_id,
           NOT anonymized OR customer_id IS NOT NULL AS identifiable
    FROM disclosures
    WHERE disclosed_at >= $start AND disclosed_at < $end
      AND purpose = 'aggregate'
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE identifiable) AS violations,
       0 AS exceptions,
       list(disclosure_id) FILTER (WHERE identifiable) AS violation_keys,
       [] AS exception_keys
FROM aggregates;

-- control: SHR-05
WITH legal AS (
    SELECT disclosure_id,
           CASE
               WHEN customer_notified_at IS NOT NULL
                   THEN customer_notified_at > disclosed_at + to_days($notice_days)
               ELSE disclosed_at + to_days($notice_days) < $as_of
           END AS not_told
    FROM disclosures
    WHERE disclosed_at >= $start AND disclosed_at < $end
      AND purpose = 'legal_requirement'
      AND customer_id IS NOT NULL
      AND NOT notification_prohibited
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE not_told) AS violations,
       0 AS exceptions,
       list(disclosure_id) FILTER (WHERE not_told) AS violation_keys,
       [] AS exception_keys
FROM legal;

-- control: SHR-06
WITH limited AS (
    SELECT d.disclosure_id,
           d.purpose NOT IN ('render_services', 'legal_requirement', 'tos_breach') AS beyond_limit
    FROM disclosures d
    WHERE d.disclosed_at >= $start AND d.disclosed_at < $end
      AND EXISTS (
          SELECT 1
          FROM consents c
          WHERE c.customer_id = d.customer_id
            AND c.kind = 'limit_sharing'
            AND c.given_at <= d.disclosed_at
            AND (c.withdrawn_at IS NULL OR c.withdrawn_at > d.disclosed_at)
      )
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE beyond_limit) AS violations,
       0 AS exceptions,
       list(disclosure_id) FILTER (WHERE beyond_limit) AS violation_keys,
       [] AS exception_keys
FROM limited;

-- control: XFR-01
WITH transfers AS (
    SELECT d.disclosure_id,
           p.transfer_safeguard IS NULL OR p.transfer_safeguard = 'none' AS unsafeguarded
    FROM disclosures d
    JOIN customers cu ON cu.customer_id = d.customer_id
    JOIN parties p ON p.party_id = d.party_id
    WHERE d.disclosed_at >= $start AND d.disclosed_at < $end
      AND cu.country IN ('AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE',
                         'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE')
      AND p.country NOT IN ('AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE',
                            'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
                            'IS', 'LI', 'NO')
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE unsafeguarded) AS violations,
       0 AS exceptions,
       list(disclosure_id) FILTER (WHERE unsafeguarded) AS violation_keys,
       [] AS exception_keys
FROM transfers;

-- control: SEC-01
WITH sensitive AS (
    SELECT item_id, NOT encrypted AS plain
    FROM personal_data
    WHERE received_at < $as_of
      AND category IN ('card', 'financial')
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE plain) AS violations,
       0 AS exceptions,
       list(item_id) FILTER (WHERE plain) AS violation_keys,
       [] AS exception_keys
FROM sensitive;

-- control: SEC-02
WITH shared AS (
    SELECT disclosure_id, NOT encrypted_in_transit AS plain
    FROM disclosures
    WHERE disclosed_at >= $start AND disclosed_at < $end
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE plain) AS violations,
       0 AS exceptions,
       list(disclosure_id) FILTER (WHERE plain) AS violation_keys,
       [] AS exception_keys
FROM shared;

-- control: MKT-01
WITH marketing AS (
    SELECT m.message_id,
           NOT EXISTS (
               SELECT 1
               FROM consents c
               WHERE c.customer_id = m.customer_id
                 AND c.kind = 'marketing_opt_in'
                 AND c.given_at <= m.sent_at
                 AND (c.withdrawn_at IS NULL OR c.withdrawn_at > m.sent_at)
           ) AS no_opt_in
    FROM communications m
    JOIN customers cu ON cu.customer_id = m.customer_id
    WHERE m.sent_at >= $start AND m.sent_at < $end
      AND m.kind IN ('newsletter', 'promotion')
      AND cu.country IN ('AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE',
                         'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE')
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE no_opt_in) AS violations,
       0 AS exceptions,
       list(message_id) FILTER (WHERE no_opt_in) AS violation_keys,
       [] AS exception_keys
FROM marketing;

-- control: MKT-02
WITH marketing AS (
    SELECT m.message_id,
           EXISTS (
               SELECT 1
               FROM consents c
               WHERE c.customer_id = m.customer_id
                 AND c.kind = 'marketing_opt_out'
                 AND c.given_at <= m.sent_at
                 AND (c.withdrawn_at IS NULL OR c.withdrawn_at > m.sent_at)
           ) AS opted_out
    FROM communications m
    WHERE m.sent_at >= $start AND m.sent_at < $end
      AND m.kind IN ('newsletter', 'promotion')
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE opted_out) AS violations,
       0 AS exceptions,
       list(message_id) FILTER (WHERE opted_out) AS violation_keys,
       [] AS exception_keys
FROM marketing;

-- control: TRK-01
WITH dnt_events AS (
    SELECT event_id,
           tracker_kind IN ('analytics', 'advertising')
           AND area NOT IN ('client_area', 'control_panel') AS tracked
    FROM tracking_events
    WHERE occurred_at >= $start AND occurred_at < $end
      AND dnt
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE tracked) AS violations,
       0 AS exceptions,
       list(event_id) FILTER (WHERE tracked) AS violation_keys,
       [] AS exception_keys
FROM dnt_events;

-- control: AGE-01
WITH subjects AS (
    SELECT cu.customer_id,
           bool_or(pd.received_at < cu.birth_date::TIMESTAMPTZ + to_years($min_age)) AS data_of_child
    FROM customers cu
    JOIN personal_data pd ON pd.customer_id = cu.customer_id
    WHERE cu.birth_date IS NOT NULL
      AND pd.received_at < $as_of
    GROUP BY cu.customer_id
)
SELECT count(*) AS population,
       count(*) FILTER (WHERE data_of_child) AS violations,
       0 AS exceptions,
       list(customer_id) FILTER (WHERE data_of_child) AS violation_keys,
       [] AS exception_keys
FROM subjects;
