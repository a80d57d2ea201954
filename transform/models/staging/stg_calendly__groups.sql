select
    uri as group_uri,
    name as group_name,
    organization as organization_uri,
    cast(member_count as integer) as member_count,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('updated_at') }} as updated_at,
    {{ deletion_columns(source('calendly', 'groups')) }}
from {{ source('calendly', 'groups') }}
