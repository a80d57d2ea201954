-- One row per live invitee (a booking) of a live meeting: its meeting, event type, hosts, source,
-- and what became of it. Rows deleted in Calendly (is_deleted in staging) are left out.
with recursive

invitees as (
    select * from {{ ref('stg_calendly__invitees') }}
    where not is_deleted
),

events as (
    select * from {{ ref('stg_calendly__scheduled_events') }}
    where not is_deleted
),

-- Deleted event types too: their meetings happened, under the name the type had.
event_types as (
    select * from {{ ref('stg_calendly__event_types') }}
),

hosts as (
    select
        event_uri,
        count(*) as host_count,
        {{ dbt.listagg('user_name', "', '", 'order by user_name') }} as host_names,
        {{ dbt.listagg('user_uri', "' '", 'order by user_uri') }} as host_user_uris
    from {{ ref('stg_calendly__event_hosts') }}
    group by event_uri
),

-- The contact an invitee is, by email (case-insensitive).
contacts as (
    select email, min(contact_uri) as contact_uri
    from {{ ref('stg_calendly__contact_emails') }}
    where email is not null
    group by email
),

submissions as (
    select * from {{ ref('stg_calendly__routing_form_submissions') }}
    where not is_deleted
),

as_of as (
    select as_of from {{ ref('data_as_of') }}
),

-- Reschedule chains: a booking whose old_invitee is not loaded starts a chain; each
-- new_invitee continues it (old_invitee -> new_invitee).
chains (invitee_uri, chain_root_invitee_uri, chain_position) as (
    select invitee_uri, invitee_uri, 1
    from invitees
    where old_invitee_uri is null
        or old_invitee_uri not in (select invitee_uri from invitees)
    union all
    select next_booking.invitee_uri, chains.chain_root_invitee_uri, chains.chain_position + 1
    from chains
    inner join invitees as next_booking on next_booking.old_invitee_uri = chains.invitee_uri
    where chains.chain_position < 100
),

booked as (
    select
        invitees.invitee_uri,
        invitees.event_uri,
        events.event_name,
        events.status as event_status,
        events.event_type_uri,
        coalesce(event_types.event_type_name, '(unknown event type)') as event_type_name,
        events.start_time,
        events.end_time,
        {{ utc_week('events.start_time') }} as start_week,
        invitees.created_at as booked_at,
        {{ hours_between('invitees.created_at', 'events.start_time') }} as lead_time_hours,
        coalesce(hosts.host_count, 0) as host_count,
        hosts.host_names,
        hosts.host_user_uris,
        contacts.contact_uri,
        invitees.utm_source,
        invitees.utm_medium,
        invitees.utm_campaign,
        coalesce(invitees.routing_form_submission_uri, submitted.routing_form_submission_uri)
            as routing_form_submission_uri,
        coalesce(linked.routing_form_uri, submitted.routing_form_uri) as routing_form_uri,
        case
            when invitees.is_rescheduled then 'rescheduled'
            when invitees.status = 'canceled' or invitees.is_canceled then 'canceled'
            when invitees.is_no_show then 'no_show'
            else 'active'
        end as fate,
        invitees.status as invitee_status,
        invitees.is_canceled,
        invitees.canceler_type,
        invitees.canceled_by,
        invitees.cancellation_reason,
        invitees.canceled_at,
        invitees.is_no_show,
        invitees.no_show_marked_at,
        invitees.is_rescheduled,
        invitees.old_invitee_uri,
        invitees.new_invitee_uri,
        chains.chain_root_invitee_uri,
        chains.chain_position,
        invitees.updated_at,
        as_of.as_of
    from invitees
    inner join events on events.event_uri = invitees.event_uri
    cross join as_of
    left join event_types on event_types.event_type_uri = events.event_type_uri
    left join hosts on hosts.event_uri = invitees.event_uri
    left join submissions as linked
        on linked.routing_form_submission_uri = invitees.routing_form_submission_uri
    left join submissions as submitted
        on submitted.submitter_uri = invitees.invitee_uri
        and invitees.routing_form_submission_uri is null
    left join chains on chains.invitee_uri = invitees.invitee_uri
    left join contacts on contacts.email = lower(invitees.invitee_email)
)

-- A booking took place when it was kept (not canceled, not moved) and its meeting ended before
-- the data's as-of time: the no-show rate's denominator.
select
    *,
    fate in ('active', 'no_show') and end_time < as_of as took_place
from booked
