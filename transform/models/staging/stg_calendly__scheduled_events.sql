with events as (
    select
        *,
        {{ json_column('location') }} as location_json,
        {{ json_column('invitees_counter') }} as counter_json,
        {{ json_column('cancellation') }} as cancellation_json,
        {{ json_column('calendar_event') }} as calendar_event_json
    from {{ source('calendly', 'scheduled_events') }}
)

select
    uri as event_uri,
    {{ uuid_of('uri') }} as event_uuid,
    name as event_name,
    status,
    event_type as event_type_uri,
    {{ utc_timestamp('start_time') }} as start_time,
    {{ utc_timestamp('end_time') }} as end_time,
    {{ json_text('location_json', 'type') }} as location_type,
    {{ json_text('location_json', 'location') }} as location,
    cast({{ json_text('counter_json', 'total') }} as integer) as invitees_total,
    cast({{ json_text('counter_json', 'active') }} as integer) as invitees_active,
    cast({{ json_text('counter_json', 'limit') }} as integer) as invitees_limit,
    {{ json_length(json_column('event_memberships')) }} as host_count,
    {{ json_length(json_column(optional_column(source('calendly', 'scheduled_events'), 'event_guests', 'json'))) }} as guest_count,
    {{ json_text('cancellation_json', 'canceled_by') }} as canceled_by,
    {{ json_text('cancellation_json', 'canceler_type') }} as canceler_type,
    {{ json_text('cancellation_json', 'reason') }} as cancellation_reason,
    {{ json_timestamp('cancellation_json', 'created_at') }} as canceled_at,
    {{ json_text('calendar_event_json', 'kind') }} as calendar_kind,
    {{ optional_column(source('calendly', 'scheduled_events'), 'meeting_notes_plain') }} as meeting_notes_plain,
    {{ json_column(optional_column(source('calendly', 'scheduled_events'), 'event_guests', 'json')) }} as event_guests,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('updated_at') }} as updated_at,
    {{ deletion_columns(source('calendly', 'scheduled_events')) }}
from events
