-- Cancellation rate per event type (all loaded bookings; reschedules counted apart)
select
    coalesce(event_type_name, 'all event types') as event_type,
    count(*) as bookings,
    sum(case when fate = 'canceled' then 1 else 0 end) as canceled,
    sum(case when fate = 'rescheduled' then 1 else 0 end) as rescheduled,
    round(100.0 * sum(case when fate = 'canceled' then 1 else 0 end) / count(*), 1) as "canceled %"
from analytics.bookings
group by rollup (event_type_name)
order by grouping(event_type_name), event_type_name
