-- One row per host of a live scheduled event (its event_memberships), keyed by the host's user.
with memberships as (
    select
        uri as event_uri,
        {{ json_elements(json_column('event_memberships')) }} as membership
    from {{ source('calendly', 'scheduled_events') }}
    where {{ sdc_deleted_at(source('calendly', 'scheduled_events')) }} is null
)

select
    event_uri,
    {{ json_text('membership', 'user') }} as user_uri,
    {{ json_text('membership', 'user_name') }} as user_name,
    {{ json_text('membership', 'user_email') }} as user_email
from memberships
