-- One row per live scheduled event (a meeting): its status, and its seats by what became of them.
with events as (
    select * from {{ ref('stg_calendly__scheduled_events') }}
    where not is_deleted
),

seats as (
    select
        event_uri,
        count(*) as seats_booked,
        sum(case when fate = 'active' then 1 else 0 end) as seats_active,
        sum(case when fate = 'no_show' then 1 else 0 end) as seats_no_show,
        sum(case when fate = 'canceled' then 1 else 0 end) as seats_canceled,
        sum(case when fate = 'rescheduled' then 1 else 0 end) as seats_rescheduled
    from {{ ref('bookings') }}
    group by event_uri
),

meetings as (
    select
        events.event_uri,
        events.event_name,
        events.event_type_uri,
        coalesce(event_types.event_type_name, '(unknown event type)') as event_type_name,
        events.status,
        events.canceler_type,
        events.canceled_at,
        events.start_time,
        events.end_time,
        {{ utc_week('events.start_time') }} as start_week,
        events.status = 'active' and events.end_time < as_of.as_of as took_place,
        events.host_count,
        -- a group event type, or more than one seat (Calendly's invitees_counter.limit)
        coalesce(events.invitees_limit, 1) > 1 or coalesce(event_types.kind = 'group', false)
            as is_group_event,
        events.invitees_limit,
        coalesce(seats.seats_booked, 0) as seats_booked,
        coalesce(seats.seats_active, 0) as seats_active,
        coalesce(seats.seats_no_show, 0) as seats_no_show,
        coalesce(seats.seats_canceled, 0) as seats_canceled,
        coalesce(seats.seats_rescheduled, 0) as seats_rescheduled,
        events.updated_at,
        as_of.as_of
    from events
    cross join {{ ref('data_as_of') }} as as_of
    left join {{ ref('stg_calendly__event_types') }} as event_types
        on event_types.event_type_uri = events.event_type_uri
    left join seats on seats.event_uri = events.event_uri
)

select
    event_uri,
    event_name,
    event_type_uri,
    event_type_name,
    status,
    canceler_type,
    canceled_at,
    start_time,
    end_time,
    start_week,
    took_place,
    host_count,
    is_group_event,
    case when is_group_event then invitees_limit end as seat_capacity,
    seats_booked,
    seats_active,
    seats_no_show,
    seats_canceled,
    seats_rescheduled,
    case
        when is_group_event and status = 'active'
            then {{ ratio('seats_active + seats_no_show', 'invitees_limit') }}
    end as seat_fill_rate,
    updated_at,
    as_of
from meetings
