with memberships as (
    select *, {{ json_column(keyword_column('user')) }} as member
    from {{ source('calendly', 'organization_memberships') }}
)

select
    uri as membership_uri,
    role,
    {{ json_text('member', 'uri') }} as user_uri,
    {{ json_text('member', 'email') }} as user_email,
    {{ json_text('member', 'name') }} as user_name,
    organization as organization_uri,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('updated_at') }} as updated_at,
    {{ deletion_columns(source('calendly', 'organization_memberships')) }}
from memberships
