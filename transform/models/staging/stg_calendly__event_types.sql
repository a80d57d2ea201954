with event_types as (
    select *, {{ json_column('profile') }} as profile_json
    from {{ source('calendly', 'event_types') }}
)

select
    uri as event_type_uri,
    {{ uuid_of('uri') }} as event_type_uuid,
    name as event_type_name,
    slug,
    kind,
    pooling_type,
    {{ keyword_column('type') }} as event_type_kind,
    active as is_active,
    admin_managed as is_admin_managed,
    secret as is_secret,
    is_paid,
    booking_method,
    cast(duration as integer) as duration_minutes,
    cast({{ keyword_column('position') }} as integer) as display_position,
    locale,
    color,
    {{ optional_column(source('calendly', 'event_types'), 'scheduling_url') }} as scheduling_url,
    {{ optional_column(source('calendly', 'event_types'), 'description_plain') }} as description_plain,
    {{ optional_column(source('calendly', 'event_types'), 'internal_note') }} as internal_note,
    {{ json_text('profile_json', 'type') }} as profile_type,
    {{ json_text('profile_json', 'name') }} as profile_name,
    {{ json_text('profile_json', 'owner') }} as profile_owner_uri,
    {{ json_column('custom_questions') }} as custom_questions,
    {{ json_column('duration_options') }} as duration_options,
    {{ json_column('locations') }} as locations,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('updated_at') }} as updated_at,
    {{ deletion_columns(source('calendly', 'event_types'), also=utc_timestamp('deleted_at')) }}
from event_types
