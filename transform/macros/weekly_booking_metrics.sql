{#-
  Booking and meeting counts and rates per UTC week of the meeting's start, grouped by
  `group_columns`; each measure is defined in models/marts/_metric_definitions.md.
  Bookings are seats: a six-seat group event is six bookings and one meeting.
-#}
{% macro weekly_booking_metrics(bookings, group_columns) -%}
select
    *,
    {{ ratio('canceled', 'bookings') }} as cancellation_rate,
    {{ ratio('canceled_meetings', 'meetings') }} as meeting_cancellation_rate,
    {{ ratio('held_no_shows', 'held_bookings') }} as no_show_rate
from (
    select
        start_week,
        {% for column in group_columns %}{{ column }},
        {% endfor -%}
        count(*) as bookings,
        sum(case when fate = 'active' then 1 else 0 end) as active,
        sum(case when fate = 'canceled' then 1 else 0 end) as canceled,
        sum(case when fate = 'no_show' then 1 else 0 end) as no_shows,
        sum(case when fate = 'rescheduled' then 1 else 0 end) as reschedules,
        sum(case when took_place then 1 else 0 end) as held_bookings,
        sum(case when took_place and fate = 'no_show' then 1 else 0 end) as held_no_shows,
        count(distinct event_uri) as meetings,
        count(distinct case when event_status = 'canceled' then event_uri end) as canceled_meetings,
        avg(lead_time_hours) as avg_lead_time_hours,
        max(as_of) as as_of
    from {{ bookings }}
    where start_week is not null
    group by start_week{% for column in group_columns %}, {{ column }}{% endfor %}
) as counted
{%- endmacro %}
