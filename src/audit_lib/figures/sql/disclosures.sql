-- Disclosures by purpose and party kind in the period and in the quarter before
-- it, from the same snapshot. With no previous quarter, bind an empty range.
SELECT
    CASE WHEN d.disclosed_at >= $start AND d.disclosed_at < $end THEN $label ELSE $previous_label END
        AS quarter,
    d.purpose,
    p.kind::VARCHAR AS party_kind,
    count(*) AS disclosures
FROM disclosures AS d
JOIN parties AS p USING (party_id)
WHERE (d.disclosed_at >= $start AND d.disclosed_at < $end)
   OR (d.disclosed_at >= $previous_start AND d.disclosed_at < $previous_end)
GROUP BY ALL
ORDER BY quarter, purpose, party_kind
