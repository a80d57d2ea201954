-- One row per live routing form submission: where it routed, the booking it became (if any), and
-- what became of that booking, following its reschedules to the booking that holds the meeting now.
with submissions as (
    select * from {{ ref('stg_calendly__routing_form_submissions') }}
    where not is_deleted
),

bookings as (
    select * from {{ ref('bookings') }}
),

-- The booking a submission became: the earliest of its reschedule chain when several link to it.
first_booking as (
    select routing_form_submission_uri, invitee_uri, chain_root_invitee_uri, chain_position
    from (
        select
            *,
            row_number() over (
                partition by routing_form_submission_uri order by chain_position, invitee_uri
            ) as nth
        from bookings
        where routing_form_submission_uri is not null
    ) as linked
    where nth = 1
),

-- The last booking of each reschedule chain: where the meeting is now.
chain_ends as (
    select chain_root_invitee_uri, invitee_uri, fate, chain_position
    from (
        select
            *,
            row_number() over (
                partition by chain_root_invitee_uri order by chain_position desc
            ) as nth
        from bookings
    ) as chained
    where nth = 1
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
    first_booking.invitee_uri as booking_invitee_uri,
    first_booking.invitee_uri is not null as became_booking,
    chain_ends.invitee_uri as current_booking_invitee_uri,
    chain_ends.fate as booking_fate,
    coalesce(chain_ends.chain_position > first_booking.chain_position, false) as was_rescheduled,
    coalesce(chain_ends.fate in ('active', 'no_show'), false) as is_converted,
    as_of.as_of
from submissions
cross join {{ ref('data_as_of') }} as as_of
left join {{ ref('stg_calendly__routing_forms') }} as forms
    on forms.routing_form_uri = submissions.routing_form_uri
left join first_booking
    on first_booking.routing_form_submission_uri = submissions.routing_form_submission_uri
left join chain_ends on chain_ends.chain_root_invitee_uri = first_booking.chain_root_invitee_uri
