select
    uri as user_uri,
    {{ uuid_of('uri') }} as user_uuid,
    name as user_name,
    slug,
    email as user_email,
    scheduling_url,
    timezone,
    avatar_url,
    locale,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('updated_at') }} as updated_at
from {{ source('calendly', 'users') }}
