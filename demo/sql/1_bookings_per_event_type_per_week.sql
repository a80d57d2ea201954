-- Bookings per event type per week (active events by week of start: last 6 weeks and next 2)
WITH now_utc AS (SELECT date_trunc('week', current_timestamp AT TIME ZONE 'UTC') AS this_week),
weeks AS (
    SELECT
        strftime(date_trunc('week', e.start_time), '%Y-%m-%d') AS week,
        coalesce(t.name, '(unknown event type)') AS event_type
    FROM calendly.scheduled_events AS e
    LEFT JOIN calendly.event_types AS t ON t.uri = e.event_type, now_utc
    WHERE e.status = 'active'
      AND e.start_time >= now_utc.this_week - INTERVAL 6 WEEK
      AND e.start_time < now_utc.this_week + INTERVAL 2 WEEK
)
PIVOT weeks ON week USING count(*) GROUP BY event_type ORDER BY event_type
