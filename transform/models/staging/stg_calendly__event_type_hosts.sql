-- Hosts of each event type: the membership's event type and user, as keys.
with hosts as (
    select
        *,
        {{ json_column('event_type') }} as event_type_json,
        {{ json_column('member') }} as member_json
    from {{ source('calendly', 'event_type_hosts') }}
)

select
    uri as event_type_host_uri,
    {{ json_text('event_type_json', 'uri') }} as event_type_uri,
    {{ json_text('member_json', 'uri') }} as user_uri,
    {{ json_text('member_json', 'name') }} as user_name,
    {{ json_text('member_json', 'email') }} as user_email,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('updated_at') }} as updated_at,
    {{ deletion_columns(source('calendly', 'event_type_hosts')) }}
from hosts
