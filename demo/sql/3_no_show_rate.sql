-- No-show rate per event type (bookings that took place: kept, and the meeting ended before the data's as-of time)
select
    coalesce(event_type_name, 'all event types') as event_type,
    count(*) as held,
    sum(case when fate = 'no_show' then 1 else 0 end) as "no-shows",
    round(100.0 * sum(case when fate = 'no_show' then 1 else 0 end) / count(*), 1) as "no-show %"
from analytics.bookings
where took_place
group by rollup (event_type_name)
order by grouping(event_type_name), event_type_name
