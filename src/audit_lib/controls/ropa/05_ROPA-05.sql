/*
id: ROPA-05
clause: "Art. 30"
title: Declared safeguards recorded on the party
kind: state
key: purpose/party_id
explanation: >
  Art. 30(1)(e) and Chapter V: a transfer safeguard the declared RoPA claims
  for a recipient must be the one the inventory records on that party. Every
  declared recipient with a safeguard is judged; a party whose
  transfer_safeguard is another, none or missing, or a party the snapshot does
  not know, is a discrepancy.
details: [purpose, party_id, party, declared_safeguard, recorded_safeguard]
breakdown: purpose
*/
SELECT
    d.purpose || '/' || d.party AS key,
    NULL AS customer_id,
    p.party_id IS NULL OR p.transfer_safeguard IS NULL OR p.transfer_safeguard::VARCHAR <> d.safeguard AS breaks,
    NULL AS exemption,
    d.purpose,
    d.party AS party_id,
    p.name AS party,
    d.safeguard AS declared_safeguard,
    CASE WHEN p.party_id IS NULL THEN 'unknown party'
         ELSE coalesce(p.transfer_safeguard::VARCHAR, 'missing') END AS recorded_safeguard
FROM declared_recipients AS d
LEFT JOIN parties AS p ON p.party_id = d.party
WHERE d.safeguard IS NOT NULL
