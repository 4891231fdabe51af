-- Sub-processor flows in the period: disclosures to sub-processors, and any
-- disclosure to render services (whoever received it), category -> party ->
-- country. "authorized" follows SHR-01: a sub_processor whose listing
-- [authorized_from, authorized_until) is active at disclosed_at; "bound"
-- follows SHR-02: a DPA in effect on the date of disclosure.
WITH flows AS (
    SELECT
        d.category, p.party_id, p.name AS party, p.kind, p.country,
        p.transfer_safeguard, p.authorized_from, p.authorized_until,
        authorized_at(p.kind, p.authorized_from, p.authorized_until, d.disclosed_at) AS authorized,
        bound_at(p.dpa_signed_at, d.disclosed_at) AS bound
    FROM disclosures AS d
    JOIN parties AS p USING (party_id)
    WHERE d.disclosed_at >= $start AND d.disclosed_at < $end
      AND (p.kind = 'sub_processor' OR d.purpose = 'render_services')
)
SELECT
    category::VARCHAR AS category,
    party_id,
    party,
    kind::VARCHAR AS party_kind,
    country,
    in_eea(country) AS in_eea,
    CASE WHEN in_eea(country) THEN 'not needed (EEA)' ELSE coalesce(transfer_safeguard::VARCHAR, 'missing') END
        AS safeguard,
    authorized_from,
    authorized_until,
    count(*) AS disclosures,
    count(*) FILTER (WHERE authorized) AS authorized,
    count(*) FILTER (WHERE NOT authorized) AS unauthorized,
    count(*) FILTER (WHERE NOT bound) AS without_dpa
FROM flows
GROUP BY ALL
ORDER BY category, party_id
