{#- Only with the webhook inbox (tap setting webhook_inbox): its table exists only then. -#}
{{ config(enabled=env_var('CALENDLY_WEBHOOK_EVENTS', 'false') | lower == 'true') }}

with deliveries as (
    select *, {{ json_column('payload') }} as payload_json
    from {{ source('calendly', 'webhook_events') }}
)

select
    dedupe_key as webhook_event_key,
    position as inbox_position,
    event,
    split_part(event, '.', 1) as event_family,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('received_at') }} as received_at,
    created_by as creator_uri,
    -- the resource the event is about: an invitee, a routing form submission or an event type
    -- at the top of the payload; a contact or a recap one level down
    coalesce(
        {{ json_text('payload_json', 'uri') }},
        {{ json_text(json_member('payload_json', 'contact'), 'uri') }},
        {{ json_text(json_member('payload_json', 'recap'), 'uri') }}
    ) as subject_uri,
    {{ json_column('uris') }} as named_uris,
    {{ json_column('scheduled_event_uris') }} as scheduled_event_uris,
    payload_json as payload
from deliveries
