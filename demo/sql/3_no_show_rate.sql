-- No-show rate per event type (bookings kept: active or marked no-show, of meetings already over)
select
    coalesce(event_type_name, 'all event types') as event_type,
    count(*) as kept,
    sum(case when fate = 'no_show' then 1 else 0 end) as "no-shows",
    round(100.0 * sum(case when fate = 'no_show' then 1 else 0 end) / count(*), 1) as "no-show %"
from analytics.bookings
where fate in ('active', 'no_show') and end_time < current_timestamp
group by rollup (event_type_name)
order by grouping(event_type_name), event_type_name
