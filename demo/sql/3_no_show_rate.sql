-- No-show rate per event type (active invitees of past, not canceled events)
WITH attended AS (
    SELECT
        coalesce(t.name, '(unknown event type)') AS event_type,
        coalesce(json_type(i.no_show) = 'OBJECT', false) AS no_show
    FROM calendly.invitees AS i
    JOIN calendly.scheduled_events AS e ON e.uri = i.event
    LEFT JOIN calendly.event_types AS t ON t.uri = e.event_type
    WHERE i.status = 'active'
      AND e.status = 'active'
      AND e.end_time < current_timestamp AT TIME ZONE 'UTC'
)
SELECT
    CASE WHEN grouping(event_type) = 1 THEN 'all event types' ELSE event_type END AS event_type,
    count(*) AS invitees,
    count(*) FILTER (WHERE no_show) AS "no-shows",
    round(100.0 * count(*) FILTER (WHERE no_show) / count(*), 1) AS "no-show %"
FROM attended
GROUP BY ROLLUP (event_type)
ORDER BY grouping(event_type), event_type NULLS LAST
