/*
id: TRK-01
clause: "§13"
title: Do Not Track honored
kind: event
key: event_id
explanation: >
  When a browser sends Do Not Track, no analytics or advertising tracker runs,
  except in the client area and control panel, which §13 exempts. A tracking
  event with Do Not Track set, of an analytics or advertising tracker, outside
  those areas is a violation.
details: [area, tracker_kind, occurred_at]
breakdown: area
*/
SELECT
    event_id AS key,
    customer_id,
    tracker_kind IN ('analytics', 'advertising')
        AND area NOT IN ('client_area', 'control_panel') AS breaks,
    NULL AS exemption,
    area,
    tracker_kind,
    occurred_at
FROM tracking_events
WHERE occurred_at >= $start AND occurred_at < $end
  AND dnt
