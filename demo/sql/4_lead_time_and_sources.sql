-- Lead time and UTM source (median hours from booking to meeting, per source)
select
    coalesce(utm_source, '(none)') as utm_source,
    count(*) as bookings,
    round(cast(percentile_cont(0.5) within group (order by lead_time_hours) as numeric), 1) as "median lead time (h)"
from analytics.bookings
group by coalesce(utm_source, '(none)')
order by bookings desc, utm_source
