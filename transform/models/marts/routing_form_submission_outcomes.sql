-- One row per routing form submission: where it routed, and the booking it became (if any).
with submissions as (
    select * from {{ ref('stg_calendly__routing_form_submissions') }}
),

bookings as (
    select * from {{ ref('bookings') }}
    where routing_form_submission_uri is not null
),

first_booking as (
    select
        routing_form_submission_uri,
        min(invitee_uri) as booking_invitee_uri,
        count(*) as bookings
    from bookings
    group by routing_form_submission_uri
)

select
    submissions.routing_form_submission_uri,
    submissions.routing_form_uri,
    forms.routing_form_name,
    submissions.result_type,
    submissions.routed_event_type_uri,
    submissions.utm_source,
    submissions.created_at as submitted_at,
    {{ utc_week('submissions.created_at') }} as submitted_week,
    first_booking.booking_invitee_uri,
    coalesce(first_booking.bookings, 0) > 0 as became_booking
from submissions
left join {{ ref('stg_calendly__routing_forms') }} as forms
    on forms.routing_form_uri = submissions.routing_form_uri
left join first_booking
    on first_booking.routing_form_submission_uri = submissions.routing_form_submission_uri
