{#-
  Booking counts and rates per UTC week of the meeting's start, grouped by `group_columns`.
  cancellation_rate: canceled (not rescheduled) / bookings. no_show_rate: no-shows / bookings
  that were kept (active or no-show). reschedules: bookings moved to another time.
-#}
{% macro weekly_booking_metrics(bookings, group_columns) -%}
select
    start_week,
    {% for column in group_columns %}{{ column }},
    {% endfor -%}
    count(*) as bookings,
    sum(case when fate = 'active' then 1 else 0 end) as active,
    sum(case when fate = 'canceled' then 1 else 0 end) as canceled,
    sum(case when fate = 'no_show' then 1 else 0 end) as no_shows,
    sum(case when fate = 'rescheduled' then 1 else 0 end) as reschedules,
    {{ ratio("sum(case when fate = 'canceled' then 1 else 0 end)", 'count(*)') }} as cancellation_rate,
    {{ ratio("sum(case when fate = 'no_show' then 1 else 0 end)",
             "sum(case when fate in ('active', 'no_show') then 1 else 0 end)") }} as no_show_rate,
    avg(lead_time_hours) as avg_lead_time_hours
from {{ bookings }}
where start_week is not null
group by start_week{% for column in group_columns %}, {{ column }}{% endfor %}
{%- endmacro %}
