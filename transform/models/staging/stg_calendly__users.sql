select
    uri as user_uri,
    {{ uuid_of('uri') }} as user_uuid,
    {{ optional_column(source('calendly', 'users'), 'name') }} as user_name,
    {{ optional_column(source('calendly', 'users'), 'slug') }} as slug,
    {{ optional_column(source('calendly', 'users'), 'email') }} as user_email,
    {{ optional_column(source('calendly', 'users'), 'scheduling_url') }} as scheduling_url,
    timezone,
    {{ optional_column(source('calendly', 'users'), 'avatar_url') }} as avatar_url,
    locale,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('updated_at') }} as updated_at,
    {{ deletion_columns(source('calendly', 'users')) }}
from {{ source('calendly', 'users') }}
