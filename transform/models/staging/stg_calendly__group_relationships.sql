with relationships as (
    select *, {{ json_column('owner') }} as owner_json
    from {{ source('calendly', 'group_relationships') }}
)

select
    uri as group_relationship_uri,
    {{ keyword_column('group') }} as group_uri,
    role,
    {{ json_text('owner_json', 'uri') }} as owner_uri,
    {{ json_text('owner_json', 'type') }} as owner_type,
    -- The owner is an organization membership (or an invitation): its user, when it has one.
    {{ json_text(json_member('owner_json', 'user'), 'uri') }} as user_uri,
    organization as organization_uri,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('updated_at') }} as updated_at,
    {{ deletion_columns(source('calendly', 'group_relationships')) }}
from relationships
