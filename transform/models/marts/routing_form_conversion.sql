-- One row per routing form: submissions, and what became of the bookings they led to.
select
    *,
    {{ ratio('converted', 'submissions') }} as conversion_rate,
    {{ ratio('became_booking', 'submissions') }} as booking_rate
from (
    select
        routing_form_uri,
        max(routing_form_name) as routing_form_name,
        count(*) as submissions,
        sum(case when result_type = 'event_type' then 1 else 0 end) as routed_to_event_type,
        sum(case when became_booking then 1 else 0 end) as became_booking,
        sum(case when is_converted then 1 else 0 end) as converted,
        sum(case when booking_fate = 'canceled' then 1 else 0 end) as canceled,
        sum(case when was_rescheduled then 1 else 0 end) as rescheduled,
        max(as_of) as as_of
    from {{ ref('routing_form_submission_outcomes') }}
    group by routing_form_uri
) as counted
