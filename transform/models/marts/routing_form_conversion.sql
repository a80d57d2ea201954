-- One row per routing form: submissions, how many routed to an event type, how many became a booking.
select
    routing_form_uri,
    max(routing_form_name) as routing_form_name,
    count(*) as submissions,
    sum(case when result_type = 'event_type' then 1 else 0 end) as routed_to_event_type,
    sum(case when became_booking then 1 else 0 end) as became_booking,
    {{ ratio('sum(case when became_booking then 1 else 0 end)', 'count(*)') }} as conversion_rate
from {{ ref('routing_form_submission_outcomes') }}
group by routing_form_uri
