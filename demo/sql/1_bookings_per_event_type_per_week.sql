-- Bookings per event type per week (invitees of meetings starting in the last 6 weeks and next 2; UTC weeks)
select
    cast(start_week as varchar) as week,
    event_type_name as event_type,
    sum(bookings) as bookings,
    sum(canceled) as canceled,
    sum(no_shows) as no_shows,
    sum(reschedules) as reschedules
from analytics.weekly_event_type_metrics
where start_week >= cast(date_trunc('week', current_timestamp at time zone 'UTC') as date) - 42
  and start_week < cast(date_trunc('week', current_timestamp at time zone 'UTC') as date) + 14
group by start_week, event_type_name
order by start_week, event_type_name
