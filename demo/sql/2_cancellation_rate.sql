-- Cancellation rate per event type (all loaded events)
WITH events AS (
    SELECT coalesce(t.name, '(unknown event type)') AS event_type, e.status = 'canceled' AS canceled
    FROM calendly.scheduled_events AS e
    LEFT JOIN calendly.event_types AS t ON t.uri = e.event_type
)
SELECT
    CASE WHEN grouping(event_type) = 1 THEN 'all event types' ELSE event_type END AS event_type,
    count(*) AS events,
    count(*) FILTER (WHERE canceled) AS canceled,
    round(100.0 * count(*) FILTER (WHERE canceled) / count(*), 1) AS "canceled %"
FROM events
GROUP BY ROLLUP (event_type)
ORDER BY grouping(event_type), event_type
